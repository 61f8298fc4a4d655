// Reading a folder back as bytes, to prove that a value appears nowhere in it in clear.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir` (recursively: the database, its WAL, mirrors, logs…), as one buffer. */
export function folderBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => readFileSync(join(e.parentPath, e.name))));
}
