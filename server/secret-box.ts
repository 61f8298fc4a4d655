// Sealing at rest: secrets, credentials and webhook secrets are kept in SQLite as AES-256-GCM
// ciphertext under one 256-bit key, in `<data>/secret.key` (made at the first start, mode 0600)
// or the file KILN_SECRET_KEY_FILE names. Each value is sealed for a context (the row it
// belongs to, e.g. `secret:3:NPM_TOKEN`), given to GCM as associated data: a sealed value
// copied into another row does not open there.
//
//   sealed = "k1." base64url( iv (12 bytes) | tag (16 bytes) | ciphertext )
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { KilnError } from '../shared/errors.js';

const PREFIX = 'k1.';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  /** Where the key came from, for messages ("/data/secret.key"). */
  readonly source: string;
  seal(plain: string, context: string): string;
  /** The plain text; throws a KilnError when the value was not sealed with this key for this context. */
  open(sealed: string, context: string): string;
  /** A key of 32 bytes for one purpose (e.g. `job-files`), derived from this one: never the key itself. */
  derive(purpose: string): Buffer;
}

export function createSecretBox(key: Buffer, source: string): SecretBox {
  if (key.length !== KEY_BYTES) throw new KilnError('bad_input', `${source}: a secret key is ${KEY_BYTES} bytes, this one has ${key.length}`);
  return {
    source,
    derive: (purpose) => createHmac('sha256', key).update(`kiln-derived-key\0${purpose}`).digest(),
    seal(plain, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(sealed, context) {
      const raw = sealed.startsWith(PREFIX) ? Buffer.from(sealed.slice(PREFIX.length), 'base64url') : null;
      if (!raw || raw.length < IV_BYTES + TAG_BYTES) throw new KilnError('internal', `${context}: not a sealed value`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new KilnError('internal', `${context}: does not open with the key in ${source} (a different key, or a damaged value)`);
      }
    },
  };
}

export interface LoadKeyOptions {
  file: string;
  /** Make the file when it does not exist (a first start: nothing is sealed yet). */
  mayCreate: boolean;
  /** How to name the file's origin in errors, e.g. "KILN_SECRET_KEY_FILE" (default: the path). */
  describe?: string;
}

/**
 * Reads the key file (32 bytes, base64 on one line), or makes it with mode 0600 when allowed.
 * A missing file that may not be made, or one that holds no key, is a KilnError with one line.
 */
export function loadSecretBox({ file, mayCreate, describe = file }: LoadKeyOptions): SecretBox {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || !mayCreate) {
      const why = code === 'ENOENT'
        ? 'is missing, and the database holds values sealed with it: restore that file (or point KILN_SECRET_KEY_FILE at it)'
        : `cannot be read (${code ?? String(error)})`;
      throw new KilnError('bad_input', `secret key ${describe} ${why}`);
    }
    try {
      return createSecretBox(makeKeyFile(file), file);
    } catch (made) {
      // Another server on this folder made it first: use that one.
      if ((made as NodeJS.ErrnoException).code === 'EEXIST') return loadSecretBox({ file, mayCreate: false, describe });
      throw new KilnError('bad_input', `secret key ${describe} cannot be made (${(made as NodeJS.ErrnoException).code ?? String(made)})`);
    }
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== text.trim()) {
    throw new KilnError('bad_input', `secret key ${describe} does not hold a key: expected ${KEY_BYTES} random bytes in base64 on one line (e.g. \`openssl rand -base64 32\`)`);
  }
  return createSecretBox(key, file);
}

function makeKeyFile(file: string): Buffer {
  const key = randomBytes(KEY_BYTES);
  // O_EXCL: two servers starting on one fresh folder cannot each make a key.
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
  } finally {
    closeSync(fd);
  }
  return key;
}
