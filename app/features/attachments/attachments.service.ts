import type { Transaction } from 'kysely';
import type { AttachmentConfig } from '../../config/schema';
import type { Database } from '../../db/database';
import type { DialectName } from '../../db/dialect';
import type { DB } from '../../db/schema';
import { nowIso } from '../../db/values';
import type { BlobStore } from '../../storage/blob-store';
import { fileSize } from '../../web/format';
import type { FieldErrors } from '../shared/form-values';
import { recordEvents, type EventListener } from '../tickets/ticket-events';
import { getTicketForUpdate, touchTicket, type NewEvent } from '../tickets/tickets.queries';
import { getAttachment, insertAttachment, markAttachmentRemoved, referencedHashes, type AttachmentRow } from './attachments.queries';
import { isInlineImage, servedType } from './content-types';
import { discardAll, type MultipartLimits, type UploadedFile, type UploadProblem } from './multipart';

/**
 * The rules for files on tickets. The order that keeps a crash harmless is theirs to keep:
 * a route reads the post (files staged, nothing visible), the ticket or reply is checked,
 * then keepUploads makes every file durable in the store, and only then does the write
 * transaction insert the rows (recordAttachments) that point at the bytes. A post that
 * fails its checks discards its staged files, so nothing at all is stored.
 */

/** What the attachment routes and the ticket routes need: where bytes go, and how much is accepted. */
export interface AttachmentSettings {
  store: BlobStore;
  limits: MultipartLimits;
  /** Removed files', and orphaned bytes', time before the sweeper deletes them. */
  retentionMs: number;
}

export function attachmentSettings(config: AttachmentConfig, store: BlobStore): AttachmentSettings {
  return {
    store,
    limits: { maxFileBytes: config.maxFileBytes, maxPostBytes: config.maxPostBytes, maxFiles: config.maxFiles },
    retentionMs: config.retentionMs,
  };
}

/** A file made durable in the store, ready for its row. */
export interface StoredUpload {
  sha256: string;
  size: number;
  name: string;
  originalName: string;
  /** Told once, from the staged file's first bytes; only four image types are ever inline. */
  contentType: string;
}

/** Field names a form may have an error beside; anything else a crafted post sends is reported with the files. */
const FIELD_NAME = /^[a-z][a-z_]{0,30}$/;

/** The form's field errors for what was wrong with a post's files (the field is `files`). */
export function uploadErrors(problems: UploadProblem[], limits: MultipartLimits): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= message);
  for (const p of problems) {
    switch (p.kind) {
      case 'file-too-large':
        add('files', `“${p.name}” is larger than ${fileSize(limits.maxFileBytes)}, the most one file can be. Choose a smaller file (log files shrink a lot when zipped)`);
        break;
      case 'post-too-large':
        add('files', `The files together are larger than ${fileSize(limits.maxPostBytes)}, the most one post can carry. Send some of them with another reply`);
        break;
      case 'too-many-files':
        add('files', `Attach at most ${limits.maxFiles} ${limits.maxFiles === 1 ? 'file' : 'files'} at once. Send the others with another reply`);
        break;
      case 'empty-file':
        add('files', `“${p.name}” is empty. Choose the file again, or leave it out`);
        break;
      case 'field-too-large':
        add(FIELD_NAME.test(p.field) ? p.field : 'files', 'This is longer than Deskside accepts; shorten it');
        break;
      default:
        add('files', 'The form could not be read. Choose the files again and send it once more');
    }
  }
  return errors;
}

/**
 * Make every staged file durable and visible under its hash; resolves once a crash can no
 * longer lose them. Files whose content is already stored are committed too: that moves
 * the stored copy's time on, which is what keeps a concurrent sweep from deleting it.
 */
export async function keepUploads(files: UploadedFile[]): Promise<StoredUpload[]> {
  const stored: StoredUpload[] = [];
  for (const f of files) {
    const ref = await f.staged.commit();
    stored.push({ sha256: ref.sha256, size: ref.size, name: f.name, originalName: f.originalName, contentType: servedType(f.name, f.staged.head).contentType });
  }
  return stored;
}

/** Forget a post's staged files (it failed its checks, or they are committed already: then a no-op). */
export async function dropUploads(files: UploadedFile[]): Promise<void> {
  await discardAll(files);
}

/** What the files came with. */
export interface AttachedWith {
  ticketId: number;
  actorId: number;
  /** With an internal note: agents only. */
  internal: boolean;
  ticketVersion: number;
  at: string;
}

/**
 * Inside the caller's write transaction: a row for each stored file, and the event for each
 * ("Alice attached log.txt"), which the caller records with the post's others
 * (tickets/ticket-events.ts recordEvents). The bytes must already be kept (keepUploads).
 */
export async function insertAttachments(trx: Transaction<DB>, dialect: DialectName, on: AttachedWith, stored: StoredUpload[]): Promise<NewEvent[]> {
  const events: NewEvent[] = [];
  for (const s of stored) {
    const id = await insertAttachment(trx, dialect, {
      ticketId: on.ticketId,
      sha256: s.sha256,
      size: s.size,
      name: s.name,
      originalName: s.originalName,
      contentType: s.contentType,
      internal: on.internal,
      uploadedBy: on.actorId,
      at: on.at,
    });
    events.push({ ticketId: on.ticketId, actorId: on.actorId, kind: on.internal ? 'note-attached' : 'attached', from: s.name, to: String(id), ticketVersion: on.ticketVersion, at: on.at });
  }
  return events;
}

export type RemoveResult = { kind: 'ok'; attachment: AttachmentRow } | { kind: 'not-found' } | { kind: 'already-removed'; attachment: AttachmentRow };

/**
 * An agent removes a file: it is no longer served or listed, its attach event stays and
 * a removal event joins it. The bytes stay until the sweeper's retention has passed.
 */
export async function removeAttachment(database: Database, actor: { personId: number }, ticketId: number, attachmentId: number, listener: EventListener): Promise<RemoveResult> {
  return database.write(async (trx): Promise<RemoveResult> => {
    const t = await getTicketForUpdate(trx, ticketId);
    const a = t ? await getAttachment(trx, ticketId, attachmentId) : undefined;
    if (!t || !a) return { kind: 'not-found' };
    const at = nowIso();
    if (!(await markAttachmentRemoved(trx, ticketId, attachmentId, actor.personId, at))) return { kind: 'already-removed', attachment: a };
    await recordEvents(trx, database.dialect, listener, [{ ticketId, actorId: actor.personId, kind: a.internal ? 'note-detached' : 'detached', from: a.name, to: String(a.id), ticketVersion: t.version, at }]);
    await touchTicket(trx, ticketId, at);
    return { kind: 'ok', attachment: a };
  });
}

/** For the sweeper: which of these hashes an attachment still needs (not removed, or removed within the retention). */
export function stillReferenced(database: Database, retentionMs: number, now: () => number = Date.now): (sha256s: string[]) => Promise<Set<string>> {
  return (sha256s) => referencedHashes(database.db, sha256s, new Date(now() - retentionMs).toISOString());
}

/** Whether pages may show this file in place (a thumbnail) and browsers may open it inline. */
export const showsInline = (a: Pick<AttachmentRow, 'content_type'>) => isInlineImage(a.content_type);
