import path from 'node:path';
import type { Values } from './keys';
import type { ATTACHMENT_KEYS } from './table';

/** Where attachment bytes are kept (compose.ts opens the store). */
export type AttachmentStoreConfig =
  /** `path` is absolute: a local folder or a UNC share. */
  | { kind: 'folder'; path: string }
  | { kind: 'database' };

export interface AttachmentConfig {
  maxFileBytes: number;
  maxPostBytes: number;
  maxFiles: number;
  store: AttachmentStoreConfig;
  retentionMs: number;
  sweepIntervalMs: number;
}

const MB = 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;

/**
 * The attachment keys and the rules between them. A relative folder is under the app
 * folder, like DESKSIDE_DATA_DIR; the default follows DESKSIDE_DATA_DIR.
 */
export function parseAttachmentConfig(v: Values<typeof ATTACHMENT_KEYS>, problems: string[], opts: { appRoot: string; dataDir: string }): AttachmentConfig {
  const maxFileBytes = Math.round(v.DESKSIDE_ATTACHMENT_MAX_MB * MB);
  const maxPostBytes = Math.round(v.DESKSIDE_ATTACHMENT_POST_MAX_MB * MB);
  if (maxPostBytes < maxFileBytes) {
    problems.push(
      `DESKSIDE_ATTACHMENT_POST_MAX_MB (${v.DESKSIDE_ATTACHMENT_POST_MAX_MB}) is smaller than DESKSIDE_ATTACHMENT_MAX_MB (${v.DESKSIDE_ATTACHMENT_MAX_MB}), so a file of the largest allowed size could never be sent; make it at least as large`,
    );
  }
  const raw = v.DESKSIDE_ATTACHMENT_STORE;
  const store: AttachmentStoreConfig =
    raw !== undefined && raw.toLowerCase() === 'database'
      ? { kind: 'database' }
      : { kind: 'folder', path: path.resolve(opts.appRoot, raw ?? path.join(opts.dataDir, 'attachments')) };
  return {
    maxFileBytes,
    maxPostBytes,
    maxFiles: v.DESKSIDE_ATTACHMENT_MAX_FILES,
    store,
    retentionMs: Math.round(v.DESKSIDE_ATTACHMENT_RETENTION_DAYS * DAY_MS),
    sweepIntervalMs: Math.round(v.DESKSIDE_ATTACHMENT_SWEEP_MINUTES * 60_000),
  };
}
