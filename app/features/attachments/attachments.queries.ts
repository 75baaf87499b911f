import type { Kysely, Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import { insertReturningId, MAX_PARAMETERS } from '../../db/portable';
import type { DB } from '../../db/schema';

type Q = Kysely<DB> | Transaction<DB>;

/** One attachment as pages show it: the file, who attached it, and who removed it if anyone did. */
export interface AttachmentRow {
  id: number;
  ticket_id: number;
  sha256: string;
  size: number;
  name: string;
  original_name: string;
  content_type: string;
  internal: number;
  uploaded_by: number;
  uploader_name: string | null;
  uploader_login: string;
  created_at: string | Date;
  removed_at: string | Date | null;
  removed_by: number | null;
  remover_name: string | null;
  remover_login: string | null;
}

function withPeople(db: Q) {
  return db
    .selectFrom('attachments')
    .innerJoin('people as uploader', 'uploader.id', 'attachments.uploaded_by')
    .leftJoin('people as remover', 'remover.id', 'attachments.removed_by')
    .select([
      'attachments.id',
      'attachments.ticket_id',
      'attachments.sha256',
      'attachments.size',
      'attachments.name',
      'attachments.original_name',
      'attachments.content_type',
      'attachments.internal',
      'attachments.uploaded_by',
      'uploader.display_name as uploader_name',
      'uploader.login as uploader_login',
      'attachments.created_at',
      'attachments.removed_at',
      'attachments.removed_by',
      'remover.display_name as remover_name',
      'remover.login as remover_login',
    ]);
}

// SQL Server returns bigint as a string.
const sized = <T extends { size: number | string }>(r: T) => ({ ...r, size: Number(r.size) });

/** A ticket's attachments in the order they were attached; internal ones only when asked for. */
export async function listAttachments(db: Q, ticketId: number, opts: { includeInternal: boolean }): Promise<AttachmentRow[]> {
  let qb = withPeople(db).where('attachments.ticket_id', '=', ticketId);
  if (!opts.includeInternal) qb = qb.where('attachments.internal', '=', 0);
  return (await qb.orderBy('attachments.id', 'asc').execute()).map(sized);
}

/** One attachment of one ticket (an id from another ticket is not found). */
export async function getAttachment(db: Q, ticketId: number, attachmentId: number): Promise<AttachmentRow | undefined> {
  const row = await withPeople(db).where('attachments.ticket_id', '=', ticketId).where('attachments.id', '=', attachmentId).executeTakeFirst();
  return row && sized(row);
}

export interface NewAttachment {
  ticketId: number;
  sha256: string;
  size: number;
  name: string;
  originalName: string;
  contentType: string;
  internal: boolean;
  uploadedBy: number;
  at: string;
}

export async function insertAttachment(trx: Q, dialect: DialectName, a: NewAttachment): Promise<number> {
  return insertReturningId(
    trx.insertInto('attachments').values({
      ticket_id: a.ticketId,
      sha256: a.sha256,
      size: a.size,
      name: a.name,
      original_name: a.originalName,
      content_type: a.contentType,
      internal: a.internal ? 1 : 0,
      uploaded_by: a.uploadedBy,
      created_at: a.at,
      removed_at: null,
      removed_by: null,
    }),
    dialect,
  );
}

/** Mark an attachment removed unless someone already did; returns whether this call did. */
export async function markAttachmentRemoved(trx: Q, ticketId: number, attachmentId: number, personId: number, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('attachments')
    .set({ removed_at: at, removed_by: personId })
    .where('ticket_id', '=', ticketId)
    .where('id', '=', attachmentId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Which of these hashes an attachment still needs: one that is not removed, or was
 * removed after `removedAfter` (its bytes are kept until the retention passes). Asked in
 * batches that stay under SQL Server's parameter limit.
 */
export async function referencedHashes(db: Q, sha256s: string[], removedAfter: string): Promise<Set<string>> {
  const found = new Set<string>();
  const per = MAX_PARAMETERS - 10;
  for (let i = 0; i < sha256s.length; i += per) {
    const rows = await db
      .selectFrom('attachments')
      .select('sha256')
      .distinct()
      .where('sha256', 'in', sha256s.slice(i, i + per))
      .where((eb) => eb.or([eb('removed_at', 'is', null), eb('removed_at', '>', removedAfter)]))
      .execute();
    for (const r of rows) found.add(r.sha256);
  }
  return found;
}
