import { createHmac, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Keys {
  session: Buffer;
  csrf: Buffer;
  /** The MAC in the Message-IDs of Deskside's mail (features/mail/threading.ts). */
  mail: Buffer;
}

/** Separate keys per purpose, so a token of one kind can never pass as another. */
export function deriveKeys(secret: string): Keys {
  const derive = (purpose: string) => createHmac('sha256', secret).update(`deskside:${purpose}`).digest();
  return { session: derive('session-cookie'), csrf: derive('csrf'), mail: derive('mail-message-id') };
}

/**
 * The configured secret, or one generated once into the data folder. iisnode starts
 * several processes at once; the file is written under a temporary name and linked into
 * place, which fails for all but the first, so every process ends up with the same one.
 */
export function loadOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, 'secret.key');
  try {
    return readSecret(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, randomBytes(48).toString('base64url') + '\n', { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readSecret(file);
}

function readSecret(file: string): string {
  const value = readFileSync(file, 'utf8').trim();
  if (value.length < 32) throw new Error(`${file} holds no usable secret (under 32 characters); delete it to generate a new one`);
  return value;
}
