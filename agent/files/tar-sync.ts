// Packing and extraction with tar (npm's own archive library), as jobs a worker thread runs
// synchronously (tar-worker.ts), or the event loop runs asynchronously when no worker file is
// at hand (tar-thread.ts).
import * as tar from 'tar';
import type { CollectedEntry } from './collect.js';

export type TarJob =
  | { op: 'extract'; file: string; cwd: string }
  /** `entries`: paths relative to `cwd`, parents first; `gzipLevel`: 1 (fast) to 9 (small). */
  | { op: 'pack'; file: string; cwd: string; entries: CollectedEntry[]; gzipLevel: number };

/** extract: why the archive is refused, or null; pack: the path that changed kind while it was packed, or null. */
export type TarResult = string | null;

const REFUSED_TYPES: Record<string, string> = { CharacterDevice: 'a character device', BlockDevice: 'a block device', FIFO: 'a FIFO' };

export function runTarJob(job: TarJob): TarResult {
  let problem: string | null = null;
  const note = (why: string) => (problem ??= why);
  if (job.op === 'extract') tar.x({ ...extractOptions(job, note), sync: true });
  else tar.c({ ...packOptions(job, note), sync: true }, packList(job.entries));
  return problem;
}

export async function runTarJobAsync(job: TarJob): Promise<TarResult> {
  let problem: string | null = null;
  const note = (why: string) => (problem ??= why);
  if (job.op === 'extract') await tar.x(extractOptions(job, note));
  else await tar.c(packOptions(job, note), packList(job.entries));
  return problem;
}

/**
 * tar refuses absolute paths, `..`, and writing through symlinks (`preservePaths: false`);
 * `strict` turns each such warning into a failure; owners are not restored. Devices and FIFOs
 * are left out, and the first one is noted (the caller refuses the archive).
 */
function extractOptions(job: { file: string; cwd: string }, note: (why: string) => void) {
  return {
    file: job.file,
    cwd: job.cwd,
    preservePaths: false,
    preserveOwner: false,
    strict: true,
    filter: (path: string, entry: unknown) => {
      const kind = typeof entry === 'object' && entry !== null && 'type' in entry ? REFUSED_TYPES[String(entry.type)] : undefined;
      if (kind !== undefined) note(`the archive holds ${kind}, ${path}`);
      return kind === undefined;
    },
  };
}

/**
 * Only the entries given go in (no folder recursion, symlinks kept as symlinks, hard links
 * within the set as links). An entry that changed kind since it was collected (a symlink put in
 * a file's place after the check) is left out and noted.
 */
function packOptions(job: Extract<TarJob, { op: 'pack' }>, note: (why: string) => void) {
  const expected = new Map(job.entries.map((e) => [e.path, e]));
  return {
    file: job.file,
    cwd: job.cwd,
    gzip: { level: job.gzipLevel },
    portable: true,
    noDirRecurse: true,
    follow: false,
    filter: (path: string, stat: unknown) => {
      const entry = expected.get(path.startsWith('./') ? path.slice(2) : path);
      const s = stat as { ino?: number; isFile?(): boolean; isDirectory?(): boolean; isSymbolicLink?(): boolean };
      const ok = entry !== undefined && typeof s.isFile === 'function' && s.ino === entry.ino && kindOf(s as Required<typeof s>) === entry.kind;
      if (!ok) note(path);
      return ok;
    },
  };
}

// A name starting with `@` is an archive to append for tar; `./` makes it a plain path.
const packList = (entries: readonly CollectedEntry[]) => entries.map((e) => (e.path.startsWith('@') ? `./${e.path}` : e.path));

function kindOf(stat: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): CollectedEntry['kind'] | null {
  return stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : null;
}
