import busboy, { type FileInfo } from 'busboy';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { BlobTooLargeError, type BlobStore, type StagedBlob } from '../../storage/blob-store';
import { uploadName } from './file-names';

/**
 * Reading a multipart/form-data post with files: each file streams through the hash into
 * the blob store's staging area (never into memory), text fields are collected, and every
 * limit breach is a typed problem. A refused post leaves no staged file behind.
 *
 * CSRF comes first. The form puts `_csrf` as its first field; when the first file part
 * begins, `beforeFiles` is called with the fields seen so far and nothing is written
 * unless it answers true. A file arriving before `_csrf` is refused outright.
 */

export interface MultipartLimits {
  /** Largest single file (DESKSIDE_ATTACHMENT_MAX_MB). */
  maxFileBytes: number;
  /** Largest total of all files in one post. */
  maxPostBytes: number;
  /** Most files in one post. */
  maxFiles: number;
  /** Most text fields, and the longest one, in bytes. */
  maxFields?: number;
  maxFieldBytes?: number;
  /**
   * The whole body, past which reading stops and the answer is 413. Up to this, a post
   * whose files are too large is read to its end (files discarded) so the form can come
   * back with the person's text. Default: twice maxPostBytes plus 1 MiB.
   */
  maxBodyBytes?: number;
}

export type Fields = Record<string, string | string[]>;

export interface UploadedFile {
  /** The form field the file came in (`files`). */
  field: string;
  /** As sent, less any path: display only, always escaped. */
  originalName: string;
  /** Safe to store and to send back in Content-Disposition. */
  name: string;
  /** What the browser claimed; informative only, never used to serve. */
  declaredType: string;
  /** Hashed and complete in the store's staging area: commit() before the row, or discard(). */
  staged: StagedBlob;
}

export type UploadProblem =
  | { kind: 'file-too-large'; field: string; name: string; limit: number }
  | { kind: 'post-too-large'; limit: number }
  | { kind: 'too-many-files'; limit: number }
  | { kind: 'empty-file'; field: string; name: string }
  | { kind: 'field-too-large'; field: string; limit: number }
  | { kind: 'too-many-fields'; limit: number }
  /** Fatal: the body passed maxBodyBytes (or said it would); answer 413. */
  | { kind: 'body-too-large'; limit: number }
  /** Fatal: a file part came before the CSRF field. */
  | { kind: 'file-before-csrf' }
  /** Fatal: beforeFiles said no (the CSRF token did not verify). */
  | { kind: 'refused' }
  /** Fatal: not multipart, broken framing, or the client went away. */
  | { kind: 'malformed'; message: string };

const FATAL = new Set<UploadProblem['kind']>(['body-too-large', 'file-before-csrf', 'refused', 'malformed']);

export type MultipartResult =
  | { ok: true; fields: Fields; files: UploadedFile[] }
  | {
      ok: false;
      /** The text fields read before the problem (all of them unless fatal): for re-rendering the form. */
      fields: Fields;
      problems: UploadProblem[];
      /**
       * The rest of the body was not read: answer with `Connection: close`, or the next
       * request on this connection would be parsed from the middle of this one.
       */
      unread: boolean;
    };

export interface MultipartOptions {
  limits: MultipartLimits;
  /**
   * Called exactly once per post: when its first file part begins, with the fields seen
   * so far, before a byte of the file is written; or, if the post has no files, at its
   * end with all its fields. Answer false to refuse the post (a bad CSRF token).
   */
  beforeFiles(fields: Fields): boolean | Promise<boolean>;
  /** The field that must precede every file. */
  csrfField?: string;
}

export const CSRF_FIELD = '_csrf';

/** How much of a post is read (to give the form back) when its files are too large: twice the post total plus 1 MiB. */
export const defaultMaxBodyBytes = (maxPostBytes: number) => 2 * maxPostBytes + 1024 * 1024;

/** Discard every staged file of a parsed post (the route decided not to keep it). */
export async function discardAll(files: UploadedFile[]): Promise<void> {
  await Promise.all(files.map((f) => f.staged.discard()));
}

export function parseMultipart(req: IncomingMessage, store: BlobStore, opts: MultipartOptions): Promise<MultipartResult> {
  return new Upload(req, store, opts).run();
}

class Upload {
  private readonly fields: Fields = Object.create(null) as Fields;
  private readonly files: UploadedFile[] = [];
  private readonly problems: UploadProblem[] = [];
  private readonly limits: Required<MultipartLimits>;
  private readonly csrfField: string;
  /** Files are handled one after another, so each knows what the earlier ones took. */
  private queue: Promise<void> = Promise.resolve();
  private gate: Promise<boolean> | undefined;
  /**
   * The fields as they stood when the first file part began. Files are handled in a queue,
   * and busboy may parse the fields after a file (from the same chunk) before its turn.
   */
  private fieldsBeforeFirstFile: Fields | undefined;
  private stagedBytes = 0;
  private aborted = false;
  private activeFile: Readable | undefined;
  private finish!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(
    private readonly req: IncomingMessage,
    private readonly store: BlobStore,
    private readonly opts: MultipartOptions,
  ) {
    const l = opts.limits;
    this.limits = {
      maxFields: 100,
      maxFieldBytes: 100 * 1024,
      maxBodyBytes: defaultMaxBodyBytes(l.maxPostBytes),
      ...l,
    };
    this.csrfField = opts.csrfField ?? CSRF_FIELD;
  }

  async run(): Promise<MultipartResult> {
    const declared = Number(this.req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.limits.maxBodyBytes) {
      this.problems.push({ kind: 'body-too-large', limit: this.limits.maxBodyBytes });
      return this.result(true);
    }
    // busboy would read urlencoded bodies too; this parser is for file uploads only.
    if (!/^multipart\/form-data\s*;/i.test(this.req.headers['content-type'] ?? '')) {
      this.problems.push({ kind: 'malformed', message: 'not multipart/form-data' });
      return this.result(true);
    }
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: this.req.headers,
        // Browsers send file names as raw UTF-8 in filename="…"; busboy's default reads latin1.
        defParamCharset: 'utf8',
        limits: { fields: this.limits.maxFields, fieldSize: this.limits.maxFieldBytes, fieldNameSize: 200 },
      });
    } catch (err) {
      this.problems.push({ kind: 'malformed', message: (err as Error).message });
      return this.result(true);
    }
    const counter = this.bodyCounter(bb);
    bb.on('field', (name, value, info) => {
      if (this.aborted) return;
      if (info.valueTruncated) this.problem({ kind: 'field-too-large', field: name, limit: this.limits.maxFieldBytes });
      this.addField(name, value);
    });
    bb.on('fieldsLimit', () => this.problem({ kind: 'too-many-fields', limit: this.limits.maxFields }));
    bb.on('file', (field, stream, info) => {
      // busboy destroys a file stream with its own error when the body breaks off; that
      // error reaches us through busboy's 'error', possibly before this file's turn.
      stream.on('error', () => undefined);
      this.fieldsBeforeFirstFile ??= { ...this.fields };
      this.queue = this.queue.then(() => this.file(field, stream, info));
    });
    bb.on('close', () => this.finish());
    bb.on('error', (err) => this.abort({ kind: 'malformed', message: (err as Error).message }));
    this.req.on('aborted', () => this.abort({ kind: 'malformed', message: 'the client closed the connection' }));
    this.req.on('error', (err) => this.abort({ kind: 'malformed', message: err.message }));
    this.req.pipe(counter).pipe(bb);

    await this.finished;
    await this.queue;
    if (!this.aborted && !this.gate) {
      // No file at all: the hook still decides, now with every field.
      if (!(await this.opts.beforeFiles({ ...this.fields }))) this.problems.push({ kind: 'refused' });
    }
    return this.result(this.aborted);
  }

  /** Counts raw body bytes on their way to busboy; past maxBodyBytes, stop reading. */
  private bodyCounter(bb: busboy.Busboy): Transform {
    let seen = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        seen += chunk.length;
        if (seen > this.limits.maxBodyBytes) {
          this.abort({ kind: 'body-too-large', limit: this.limits.maxBodyBytes });
          return done();
        }
        if (this.aborted) return done();
        done(null, chunk);
      },
    }).on('error', (err) => bb.destroy(err));
  }

  private async file(field: string, stream: Readable, info: FileInfo): Promise<void> {
    if (this.aborted || this.failed()) {
      stream.resume();
      return;
    }
    if (!this.gate) this.gate = this.openGate();
    if (!(await this.gate)) {
      stream.resume();
      return;
    }
    if (this.aborted) {
      stream.resume();
      return;
    }
    const names = uploadName(info.filename);
    const budget = this.limits.maxPostBytes - this.stagedBytes;
    const maxBytes = Math.min(this.limits.maxFileBytes, budget);
    let staged: StagedBlob;
    this.activeFile = stream;
    try {
      staged = await this.store.stage(stream, { maxBytes });
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        this.problem(
          maxBytes < this.limits.maxFileBytes
            ? { kind: 'post-too-large', limit: this.limits.maxPostBytes }
            : { kind: 'file-too-large', field, name: names.safe, limit: this.limits.maxFileBytes },
        );
        return;
      }
      // Aborted midway (the stream was destroyed), or the store failed: the post is lost.
      this.abort({ kind: 'malformed', message: (err as Error).message });
      return;
    } finally {
      this.activeFile = undefined;
    }
    const chosen = (info.filename ?? '') !== '';
    if (staged.size === 0 && !chosen) {
      // An <input type="file"> left empty still sends a nameless, empty part.
      await staged.discard();
      return;
    }
    const upload: UploadedFile = { field, originalName: names.original, name: names.safe, declaredType: info.mimeType, staged };
    this.files.push(upload);
    this.stagedBytes += staged.size;
    if (this.aborted) return this.discardFiles();
    if (staged.size === 0) this.problem({ kind: 'empty-file', field, name: names.safe });
    else if (this.files.length > this.limits.maxFiles) this.problem({ kind: 'too-many-files', limit: this.limits.maxFiles });
  }

  private async openGate(): Promise<boolean> {
    const before = this.fieldsBeforeFirstFile ?? { ...this.fields };
    if (!(this.csrfField in before)) {
      this.abort({ kind: 'file-before-csrf' });
      return false;
    }
    const ok = await this.opts.beforeFiles(before);
    if (!ok) this.abort({ kind: 'refused' });
    return ok;
  }

  private addField(name: string, value: string): void {
    const prior = this.fields[name];
    if (prior === undefined) this.fields[name] = value;
    else this.fields[name] = Array.isArray(prior) ? [...prior, value] : [prior, value];
  }

  private failed(): boolean {
    return this.problems.length > 0;
  }

  /** A problem the person can fix: keep reading fields (to re-render the form), store no more files. */
  private problem(p: UploadProblem): void {
    if (!this.problems.some((q) => q.kind === p.kind)) this.problems.push(p);
    void this.discardFiles();
  }

  /** Stop reading the body now. */
  private abort(p: UploadProblem): void {
    if (this.aborted) return;
    this.aborted = true;
    this.problems.push(p);
    this.req.unpipe();
    // A file being staged would wait forever for bytes that will not come.
    this.activeFile?.destroy(new Error('upload aborted'));
    void this.discardFiles();
    this.finish();
  }

  private discarding: Promise<void> = Promise.resolve();
  private discardFiles(): Promise<void> {
    const files = this.files.splice(0);
    this.discarding = this.discarding.then(() => discardAll(files));
    return this.discarding;
  }

  private async result(unread: boolean): Promise<MultipartResult> {
    if (this.problems.length === 0) return { ok: true, fields: { ...this.fields }, files: this.files };
    await this.discardFiles();
    // Files staged after the first problem was seen were discarded as they finished.
    return { ok: false, fields: { ...this.fields }, problems: this.problems.slice().sort((a, b) => Number(FATAL.has(b.kind)) - Number(FATAL.has(a.kind))), unread };
  }
}
