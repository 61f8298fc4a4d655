// Archives by content: `<dir>/sha256/<2 hex>/<64 hex>`, written whole or not at all.
//
//   body ──▶ <dir>/tmp/<random> (hashed and counted as it is written)
//              ├─ over maxBytes → removed, BlobTooLarge
//              ├─ digest ≠ the announced one → removed, DigestMismatch
//              └─ fsync → rename into sha256/… (atomic: a reader sees the whole file or none)
//
// A restart in the middle of an upload leaves only a file under tmp/, which `discardPartials`
// removes at the next start; the agent, whose request failed, sends the archive again.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KilnError } from '../../shared/errors.js';
import { formatSize } from '../../shared/size.js';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface StoredBlob {
  sha256: string;
  size: number;
}

export interface PutOptions {
  /** The digest the sender announced (hex); the stored file has it or is not kept. */
  sha256: string;
  /** Refused beyond this many bytes; `what` names it in the error ("artifact \"dist\""). */
  maxBytes: number;
  what: string;
  /** What the limit is called, for the error ("server.artifact_max"). */
  limitName: string;
}

export interface BlobStore {
  readonly dir: string;
  /** Stores the body under its digest; throws a KilnError (`too_large`, `bad_input`) and keeps nothing on a refusal. */
  put(body: Readable, options: PutOptions): Promise<StoredBlob>;
  has(sha256: string): boolean;
  /** The file of a digest (it may not exist). */
  path(sha256: string): string;
  /** Removes the file of a digest, when there is one. */
  remove(sha256: string): void;
  /** Every digest stored, for sweeping files no row refers to. */
  digests(): string[];
  /** Removes what interrupted uploads left; returns how many. For the start. */
  discardPartials(): number;
  /**
   * Marks a digest as being uploaded, from before its `put` until its row is recorded: sweeps
   * and evictions leave its file alone meanwhile. Returns the release; holds are counted.
   */
  hold(sha256: string): () => void;
  /** How many uploads hold this digest now. */
  held(sha256: string): number;
}

export function createBlobStore(dir: string): BlobStore {
  const tmp = join(dir, 'tmp');
  const root = join(dir, 'sha256');
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const path = (sha256: string) => {
    if (!SHA256_HEX.test(sha256)) throw new KilnError('bad_input', `not a sha256 digest: ${sha256.slice(0, 80)}`);
    return join(root, sha256.slice(0, 2), sha256);
  };
  const holds = new Map<string, number>();
  const add = (sha256: string, by: 1 | -1) => {
    const count = (holds.get(sha256) ?? 0) + by;
    if (count > 0) holds.set(sha256, count);
    else holds.delete(sha256);
  };
  return {
    dir,
    path,
    hold(sha256) {
      add(sha256, 1);
      let released = false;
      return () => {
        if (!released) add(sha256, -1);
        released = true;
      };
    },
    held: (sha256) => holds.get(sha256) ?? 0,
    has: (sha256) => SHA256_HEX.test(sha256) && existsSync(path(sha256)),
    async put(body, o) {
      const target = path(o.sha256);
      const partial = join(tmp, randomBytes(12).toString('hex'));
      const hash = createHash('sha256');
      let size = 0;
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > o.maxBytes) {
            done(new KilnError('too_large', `${o.what} is over ${o.limitName} (${formatSize(o.maxBytes)})`));
            return;
          }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(body, count, createWriteStream(partial, { mode: 0o600, flush: true }));
        const digest = hash.digest('hex');
        if (digest !== o.sha256) throw new KilnError('bad_input', `${o.what}: the upload's sha256 is ${digest}, not ${o.sha256} as announced`);
        mkdirSync(join(root, o.sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
        renameSync(partial, target);
        return { sha256: digest, size };
      } finally {
        rmSync(partial, { force: true });
      }
    },
    remove: (sha256) => rmSync(path(sha256), { force: true }),
    digests: () => readdirSync(root).flatMap((prefix) => {
      const sub = join(root, prefix);
      return statSync(sub).isDirectory() ? readdirSync(sub).filter((name) => SHA256_HEX.test(name)) : [];
    }),
    discardPartials() {
      const left = readdirSync(tmp);
      for (const name of left) rmSync(join(tmp, name), { force: true, recursive: true });
      return left.length;
    },
  };
}
