// The process provider's records: one JSON file per agent under <data>/pools/<pool>/, beside its
// log and work folder, and whether the pid in a record is still that agent.
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AgentRecord { name: string; pool: string; pid: number; startedAtMs: number; log: string }

const hasProc = existsSync('/proc/self/cmdline');

/**
 * Whether `pid` is still the agent `name`. Why the command line check: after a restart a
 * record's pid may have been reused by an unrelated process, which must never be signalled.
 */
export function isAgentAlive(pid: number, name: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false; // gone, or (EPERM) another user's process: not an agent of ours
  }
  if (!hasProc) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(name); // empty for a zombie
  } catch {
    return false;
  }
}

/**
 * Whether `pid` still runs at all (a zombie does not). For waiting on an agent just signalled:
 * an exiting process has lost its command line before it is gone.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!hasProc) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** Written whole or not at all (rename), so a crash never leaves half a record. */
export async function writeRecord(dir: string, record: AgentRecord): Promise<void> {
  const file = join(dir, `${record.name}.json`);
  await writeFile(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** The records in `dir` (none when it does not exist); unreadable ones go to `onBad`. */
export async function readRecords(dir: string, onBad: (file: string, error: unknown) => void): Promise<AgentRecord[]> {
  const files = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  const records: AgentRecord[] = [];
  for (const file of files.filter((f) => f.endsWith('.json'))) {
    try {
      records.push(JSON.parse(await readFile(join(dir, file), 'utf8')) as AgentRecord);
    } catch (error) {
      onBad(file, error);
    }
  }
  return records;
}

/** Deletes an agent's record and work folder (workspaces, spool); its log stays (see pruneLogs), and so does the pool's shared git cache, which is elsewhere. */
export async function forgetRecord(dir: string, name: string): Promise<void> {
  await rm(join(dir, `${name}.json`), { force: true });
  await rm(join(dir, name), { recursive: true, force: true });
}

/** Keeps the logs of live agents and the newest `keep` others. */
export async function pruneLogs(dir: string, live: ReadonlySet<string>, keep: number): Promise<void> {
  const logs = (await readdir(dir)).filter((f) => f.endsWith('.log') && !live.has(f.slice(0, -4)));
  if (logs.length <= keep) return;
  const dated = await Promise.all(logs.map(async (f) => ({ f, mtimeMs: (await stat(join(dir, f))).mtimeMs })));
  dated.sort((a, b) => b.mtimeMs - a.mtimeMs);
  await Promise.all(dated.slice(keep).map(({ f }) => rm(join(dir, f), { force: true })));
}
