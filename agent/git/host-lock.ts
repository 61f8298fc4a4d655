// A lock between processes on one host (or containers sharing a volume): an atomic mkdir with an owner file and a heartbeat.
import { readlinkSync } from 'node:fs';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface HostLockOptions {
  /** A lock whose folder was not touched for this long is a crashed holder's (default 60 s). */
  staleMs?: number;
  /** How often a waiter looks again (default 100 ms). */
  pollMs?: number;
  /** Give up waiting after this long (default 15 minutes). */
  waitMs?: number;
  now?: () => number;
}

/**
 * Runs `task` while holding the lock folder `path`. Why mkdir: it is atomic on every local
 * file system and on a Docker volume, where agents in different containers share a cache
 * and cannot see each other's processes. The holder touches the folder every staleMs/4;
 * a waiter takes over a lock that is older than staleMs, or whose owner file names a dead
 * process of this host. Why the takeover is safe enough: what the lock serializes (git
 * fetches into one bare cache, clones from it) is also guarded by git's own ref and pack
 * lock files, so two holders at once would make one git command fail, never corrupt the cache.
 */
export async function withHostLock<T>(path: string, task: () => Promise<T>, o: HostLockOptions = {}): Promise<T> {
  const staleMs = o.staleMs ?? 60_000;
  const now = o.now ?? Date.now;
  const deadline = now() + (o.waitMs ?? 15 * 60_000);
  const owner = `${process.pid}@${processSpace()}`;
  for (;;) {
    try {
      await mkdir(path);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(path, staleMs, now)) {
      await rm(path, { recursive: true, force: true });
      continue;
    }
    if (now() > deadline) throw new Error(`timed out waiting for the lock ${path}`);
    await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 100));
  }
  await writeFile(join(path, 'owner'), owner).catch(() => undefined);
  const beat = setInterval(() => {
    const t = new Date();
    void utimes(path, t, t).catch(() => undefined);
  }, Math.max(50, staleMs / 4));
  beat.unref();
  try {
    return await task();
  } finally {
    clearInterval(beat);
    await rm(path, { recursive: true, force: true });
  }
}

async function isStale(path: string, staleMs: number, now: () => number): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  if (!info) return false; // released meanwhile: try mkdir again
  if (now() - info.mtimeMs > staleMs) return true;
  const owner = await readFile(join(path, 'owner'), 'utf8').catch(() => '');
  const at = owner.indexOf('@');
  if (at < 1 || owner.slice(at + 1) !== processSpace()) return false; // another host or container: its pids mean nothing here
  const pid = owner.slice(0, at);
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Where a pid means something: the host name and the pid namespace (containers on one host differ). */
function processSpace(): string {
  let ns = '';
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    // no /proc (macOS): the host name alone
  }
  return `${hostname()}${ns ? `/${ns}` : ''}`;
}
