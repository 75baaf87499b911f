import type { Request, Response } from 'express';
import { tokenRefused, type FormTokenCheck } from '../../web/csrf';
import { fileSize } from '../../web/format';
import { HttpError } from '../../web/http-error';
import type { FieldErrors } from '../shared/form-values';
import { uploadErrors, type AttachmentSettings } from './attachments.service';
import { discardAll, parseMultipart, type UploadedFile, type UploadProblem } from './multipart';

/**
 * The routes that take files: a ticket, and a reply or note. app.ts hands these to the
 * CSRF check, which leaves their multipart posts' tokens to readUploads.
 */
export const UPLOAD_PATHS: RegExp[] = [/^\/tickets\/?$/, /^\/tickets\/\d{1,9}\/comments\/?$/];

export interface ReadUploads {
  /** Staged, hashed and complete; nothing is visible in the store until a service keeps them. */
  files: UploadedFile[];
  /** What was wrong with the files (field `files`), for the form to show; none were kept. */
  errors: FieldErrors;
  /** The post carried files: if the form comes back, the person must choose them again. */
  hadFiles: boolean;
  /** Forget whatever is still staged: call it in a `finally`; it does nothing for files already kept. */
  discard(): Promise<void>;
}

const NOTHING: ReadUploads = { files: [], errors: {}, hadFiles: false, discard: async () => undefined };
const FILE_PROBLEMS = new Set<UploadProblem['kind']>(['file-too-large', 'post-too-large', 'too-many-files', 'empty-file']);

/**
 * Read the post's fields and files in a route, after its guard: a multipart post's fields
 * become req.body (so formOf works as for any form), its files are staged. An ordinary
 * form post has no files and was read already. Posts that cannot be kept are refused here:
 * 413 past the body limit, 403 without a good form token (checked before the first file
 * byte), 400 when unreadable; `Connection: close` when the rest of the body was not read.
 * Problems the person can fix (too large, too many, empty) come back as field errors with
 * the text fields kept, and no file kept.
 */
export async function readUploads(req: Request, res: Response, settings: AttachmentSettings): Promise<ReadUploads> {
  const check = res.locals.checkFormToken as FormTokenCheck | undefined;
  if (!check) return NOTHING;
  const result = await parseMultipart(req, settings.store, { limits: settings.limits, beforeFiles: (fields) => check(fields) });
  req.body = result.fields;
  // Browsers cannot put files back into a form: if it comes back, the file input says so.
  res.locals.filesToChooseAgain = result.ok ? result.files.length > 0 : result.problems.some((p) => FILE_PROBLEMS.has(p.kind));
  if (result.ok) return { files: result.files, errors: {}, hadFiles: result.files.length > 0, discard: () => discardAll(result.files) };
  if (result.unread) res.setHeader('Connection', 'close');
  const fatal = refusal(result.problems[0], settings);
  if (fatal) throw fatal;
  return { files: [], errors: uploadErrors(result.problems, settings.limits), hadFiles: result.problems.some((p) => FILE_PROBLEMS.has(p.kind)), discard: async () => undefined };
}

/** The HTTP answer to a problem that ends the post, or undefined for one the form can show. */
function refusal(p: UploadProblem, settings: AttachmentSettings): HttpError | undefined {
  switch (p.kind) {
    case 'body-too-large':
      return new HttpError(
        413,
        `multipart body over ${p.limit} bytes`,
        `What you sent is larger than Deskside accepts (at most ${fileSize(settings.limits.maxPostBytes)} of files in one post). Nothing was saved; go back and send fewer or smaller files.`,
      );
    case 'refused':
    case 'file-before-csrf':
      return tokenRefused();
    case 'malformed':
      return new HttpError(400, `multipart post refused: ${p.message}`, 'The form could not be read, so nothing was saved. Go back, reload the page and try again.');
    default:
      return undefined;
  }
}
