import { Readable } from 'node:stream';
import type { Attachment } from 'mailparser';
import { BlobTooLargeError } from '../../storage/blob-store';
import { fileSize } from '../../web/format';
import type { AttachmentSettings } from '../attachments/attachments.service';
import { uploadName } from '../attachments/file-names';
import { discardAll, type UploadedFile } from '../attachments/multipart';

/**
 * An e-mail's files as a post's files: staged in the attachment store under the same limits
 * as a post from the web form (the largest file, the total, how many), named safely, and
 * kept (committed) by the same service before the ticket's rows point at them. What does
 * not fit is left out and said: the whole message stays in the mailbox's Processed folder.
 *
 * Small inline images are left out too: they are the logos and icons of signatures. A
 * larger inline image is a screenshot pasted into the text, and is kept.
 */

/** Inline images at least this large are pasted screenshots, not signature logos. */
export const INLINE_IMAGE_MIN_BYTES = 8 * 1024;

const EXTENSIONS: Record<string, string> = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/gif': '.gif', 'image/webp': '.webp', 'text/plain': '.txt', 'application/pdf': '.pdf', 'message/rfc822': '.eml' };

export interface MailFiles {
  files: UploadedFile[];
  /** One line per file left out, for the comment and the log. */
  leftOut: string[];
}

export const NO_FILES: MailFiles = Object.freeze({ files: [], leftOut: [] });

function wanted(a: Attachment): boolean {
  const inline = a.related || a.contentDisposition === 'inline';
  return !(inline && a.contentType.startsWith('image/') && a.size < INLINE_IMAGE_MIN_BYTES);
}

/** Stage what fits; on any failure nothing stays staged. */
export async function stageMailFiles(settings: AttachmentSettings, attachments: readonly Attachment[]): Promise<MailFiles> {
  const { maxFileBytes, maxPostBytes, maxFiles } = settings.limits;
  const files: UploadedFile[] = [];
  const leftOut: string[] = [];
  let total = 0;
  let n = 0;
  try {
    for (const a of attachments) {
      if (!wanted(a)) continue;
      n++;
      const sent = a.filename?.trim() || `${a.contentType.split('/')[0] || 'file'}-${n}${EXTENSIONS[a.contentType.toLowerCase()] ?? ''}`;
      const name = uploadName(sent);
      const size = a.content.length;
      if (size === 0) continue;
      if (files.length >= maxFiles) leftOut.push(`${name.safe}: more than ${maxFiles} files came with the e-mail`);
      else if (size > maxFileBytes) leftOut.push(`${name.safe}: ${fileSize(size)}, larger than ${fileSize(maxFileBytes)}, the most one file can be`);
      else if (total + size > maxPostBytes) leftOut.push(`${name.safe}: the files together would be larger than ${fileSize(maxPostBytes)}`);
      else {
        let staged;
        try {
          staged = await settings.store.stage(Readable.from([a.content]), { maxBytes: maxFileBytes });
        } catch (err) {
          if (!(err instanceof BlobTooLargeError)) throw err;
          leftOut.push(`${name.safe}: larger than ${fileSize(maxFileBytes)}, the most one file can be`);
          continue;
        }
        total += size;
        files.push({ field: 'files', originalName: name.original, name: name.safe, declaredType: a.contentType, staged });
      }
    }
  } catch (err) {
    await discardAll(files);
    throw err;
  }
  return { files, leftOut };
}
