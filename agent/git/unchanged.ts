// The reuse fast path: proves without git that a workspace is still as kiln's last checkout of the commit left it.
import { createHash } from 'node:crypto';
import { lstat, open, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlannedCheckout } from '../../shared/pipeline/types.js';
import { removeNow, removeUntracked, type Remove } from './clean.js';
import { FOREIGN_IN_GIT_DIR, gitConfigText, type GitDirSettings } from './git-dir.js';
import { parseIndex, type IndexEntry, type ParsedIndex } from './git-index.js';

/**
 * What a checkout left in a workspace, kept in the agent's memory (never in the workspace,
 * which a job can write): the commit, the kind of checkout and the index's checksum.
 */
export interface CheckoutStamp {
  sha: string;
  mode: PlannedCheckout;
  indexChecksum: Buffer;
  /**
   * When (ms since the epoch) the racily clean entries were last found clean by content, or
   * null. Why: the index is not rewritten when nothing changed, so they stay racy; an entry
   * whose ctime is well before that moment (RACY_MARGIN_MS) has not changed since it was read.
   */
  contentCheckedMs: number | null;
}

/**
 * Ten times the file system clock's coarseness (it stamps files with the time of the last
 * scheduler tick, ≤ 10 ms behind Date.now()): a change after a content check shows in ctime.
 */
const RACY_MARGIN_MS = 100;

/**
 * Past this many tracked files git is the cheaper proof: it stats them on threads of its own
 * (~8 µs each), while each stat here costs the agent ~50 µs (a round trip to libuv's pool),
 * against git's ~5 ms to start. A 20,000-file repo took 0.9 s here and 0.15 s with git.
 */
const MAX_ENTRIES = 256;
/** Racily clean entries are compared by content up to this many bytes in all; past it, git runs. */
const RACY_BYTES = 4 * 1024 * 1024;
const FILE = 0o100000;
const SYMLINK = 0o120000;

/** The stamp of a checkout that leaves `index`; null when the index carries no checksum to compare (index.skipHash). */
export function stampOf(sha: string, mode: PlannedCheckout, index: ParsedIndex): CheckoutStamp | null {
  return index.checksum.some((b) => b !== 0) ? { sha, mode, indexChecksum: Buffer.from(index.checksum), contentCheckedMs: null } : null;
}

/**
 * Resolves true when `workTree` equals what `git checkout --force` of `stamp.sha` and a clean
 * would make of it, having removed its untracked and ignored files and written `.git/config`
 * back: HEAD detached at the commit; the index byte for byte the one the stamp's checkout left
 * (so a job's `git add` or `git reset` is seen); nothing in `.git` resetGitDir would remove; no
 * gitlinks; at most MAX_ENTRIES tracked files, each with the stat git recorded for it: type, executable bit,
 * size, mtime, ctime, inode, owner. Why ctime: a job can set a file's mtime back after
 * changing it, never its ctime. An entry changed in the clock tick the index was written in
 * looks clean by stat ("racily clean", as git calls it): it is compared by content instead.
 * Resolves false, or rejects, when anything differs or cannot be read: the caller runs git,
 * and the tracked files found changed are already removed, for git to write them again.
 */
export async function reuseUnchanged(workTree: string, stamp: CheckoutStamp, settings: GitDirSettings, nowMs: () => number = Date.now, remove: Remove = removeNow): Promise<boolean> {
  const git = join(workTree, '.git');
  const hashBytes = settings.sha256 ? 32 : 20;
  const [names, head, config, index, nested] = await Promise.all([
    readdir(git).then((list) => new Set(list)),
    readFile(join(git, 'HEAD'), 'latin1'),
    readFile(join(git, 'config'), 'utf8'),
    readIndexWithTime(join(git, 'index')),
    Promise.all(FOREIGN_IN_GIT_DIR.filter((p) => p.includes('/')).map((p) => lstat(join(git, p)).then(() => true, () => false))),
  ]);
  if (FOREIGN_IN_GIT_DIR.some((p) => !p.includes('/') && names.has(p))) return false;
  if (settings.mode.depth === null && names.has('shallow')) return false;
  if (head !== `${stamp.sha}\n` || nested.includes(true)) return false;
  if (index.data.length < 12 || index.data.readUInt32BE(8) > MAX_ENTRIES) return false; // the entry count, from the header
  if (!index.data.subarray(index.data.length - hashBytes).equals(stamp.indexChecksum)) return false;
  const parsed = parseIndex(index.data, hashBytes);
  if (parsed.gitlinks.length > 0) return false;
  const wanted = gitConfigText(settings);
  const racy: IndexEntry[] = [];
  const changed: string[] = [];
  // Racy as git sees it: not before the index was written. Not racy for us: checked by content since.
  const settledBefore: [number, number] = stamp.contentCheckedMs === null ? index.mtime : later(index.mtime, stamp.contentCheckedMs - RACY_MARGIN_MS);
  // Untracked files go while tracked ones are compared. Why that is safe: a tracked path seen
  // through a symbolic link (a folder swapped for one) would look clean, but the walk finds
  // the link in the way, and then nothing here is trusted.
  const [cleaned] = await Promise.all([
    removeUntracked(workTree, parsed, remove),
    eachLimited(parsed.entries, 64, async (entry) => {
      const verdict = await compareStat(join(workTree, entry.path), entry, settledBefore);
      if (verdict === 'changed') changed.push(entry.path);
      else if (verdict === 'racy') racy.push(entry);
    }),
    config === wanted ? undefined : writeFile(join(git, 'config'), wanted),
  ]);
  if (cleaned.inTheWay) return false;
  const checkedAt = nowMs();
  if (changed.length === 0 && racy.length > 0) {
    // Content is what git would store only without conversions: with attributes, trust git.
    if (parsed.paths.some((p) => p === '.gitattributes' || p.endsWith('/.gitattributes'))) return false;
    if (racy.reduce((sum, e) => sum + e.size, 0) > RACY_BYTES) return false;
    const algorithm = hashBytes === 20 ? 'sha1' : 'sha256';
    for (const entry of racy) {
      const full = join(workTree, entry.path);
      const content = (entry.mode & 0o170000) === SYMLINK ? await readlink(full, { encoding: 'buffer' }) : await readFile(full);
      const oid = createHash(algorithm).update(`blob ${content.length}\0`).update(content).digest();
      if (!oid.equals(entry.oid)) changed.push(entry.path);
    }
  }
  // Why remove them: git compares whole seconds of ctime (unless built with USE_NSEC), so it
  // could take a file changed within the second for clean; a missing one it always writes.
  await Promise.all(changed.map((path) => rm(join(workTree, path), { recursive: true, force: true })));
  if (changed.length > 0) return false;
  if (racy.length > 0) stamp.contentCheckedMs = checkedAt;
  return true;
}

interface TimedIndex {
  data: Buffer;
  /** The index file's mtime as [seconds, nanoseconds]. */
  mtime: [number, number];
}

async function readIndexWithTime(file: string): Promise<TimedIndex> {
  const handle = await open(file, 'r');
  try {
    const [info, data] = await Promise.all([handle.stat({ bigint: true }), handle.readFile()]);
    return { data, mtime: [Number(info.mtimeNs / 1_000_000_000n), Number(info.mtimeNs % 1_000_000_000n)] };
  } finally {
    await handle.close();
  }
}

/** The later of a [seconds, nanoseconds] time and a time in ms. */
function later(time: [number, number], ms: number): [number, number] {
  const sec = Math.floor(ms / 1000);
  const other: [number, number] = [sec, Math.round((ms - sec * 1000) * 1e6)];
  return other[0] > time[0] || (other[0] === time[0] && other[1] > time[1]) ? other : time;
}

/** `settledBefore`: an entry whose mtime and ctime are earlier is trusted by stat; a later one is racily clean. */
async function compareStat(path: string, e: IndexEntry, settledBefore: [number, number]): Promise<'clean' | 'racy' | 'changed'> {
  const st = await lstat(path, { bigint: true }).catch(() => null);
  if (st === null) return 'changed';
  const type = e.mode & 0o170000;
  if (type === FILE) {
    if (!st.isFile() || ((st.mode & 0o100n) !== 0n) !== ((e.mode & 0o100) !== 0)) return 'changed';
  } else if (type !== SYMLINK || !st.isSymbolicLink()) return 'changed';
  const u32 = (n: bigint) => Number(n & 0xffffffffn);
  const sec = (ns: bigint) => u32(ns / 1_000_000_000n);
  const nsec = (ns: bigint) => Number(ns % 1_000_000_000n);
  if (u32(st.size) !== e.size || u32(st.ino) !== e.ino || u32(st.uid) !== e.uid || u32(st.gid) !== e.gid) return 'changed';
  if (sec(st.mtimeNs) !== e.mtimeSec || nsec(st.mtimeNs) !== e.mtimeNsec) return 'changed';
  if (sec(st.ctimeNs) !== e.ctimeSec || nsec(st.ctimeNs) !== e.ctimeNsec) return 'changed';
  const notBefore = (s: number, ns: number) => s > settledBefore[0] || (s === settledBefore[0] && ns >= settledBefore[1]);
  return notBefore(e.mtimeSec, e.mtimeNsec) || notBefore(e.ctimeSec, e.ctimeNsec) ? 'racy' : 'clean';
}

/** Runs `task` on every item, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
