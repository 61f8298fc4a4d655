// sha256 and size of bytes as they stream past, and of a file on disk.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** What a stream of bytes came to: hex sha256 and length. */
export interface Digest {
  sha256: string;
  size: number;
}

/** A pass-through for `pipeline` that hashes and counts; `result()` once the pipeline is done. */
export function digesting(): { pass: (source: AsyncIterable<Buffer | string>) => AsyncGenerator<Buffer>; result(): Digest } {
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | null = null;
  return {
    async *pass(source) {
      for await (const chunk of source) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        hash.update(bytes);
        size += bytes.length;
        yield bytes;
      }
    },
    result: () => ({ sha256: (sha256 ??= hash.digest('hex')), size }),
  };
}

/** The digest of a file's bytes. */
export async function digestFile(path: string): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
