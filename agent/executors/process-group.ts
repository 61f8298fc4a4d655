// Signals to a step's process group, and waiting for the group to empty: graceful, then forced.
import { readdirSync, readFileSync } from 'node:fs';

/** Sends `signal` to every process in group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  // Why no stack: a group already gone (the usual case at a job's end) throws, and the stack
  // trace of that error was most of the call's cost.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return true; // exists, not ours to signal
    return false; // ESRCH: nobody left
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Whether group `pgid` still has a process that is not a zombie. Zombies count as gone: where
 * PID 1 does not reap orphans (some containers and VMs), a killed tree stays as zombies forever.
 */
export function groupHasLiveMembers(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so cut at the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

async function waitForEmpty(pgid: number, timeoutMs: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupHasLiveMembers(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

/**
 * Stops group `pgid`: SIGTERM, then SIGKILL to whatever is left after `graceMs` (children that
 * trap TERM, background jobs). Resolves when the group is empty, or shortly after the SIGKILL.
 */
export async function stopGroup(pgid: number, graceMs: number, pollMs = 50): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  if (await waitForEmpty(pgid, graceMs, pollMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitForEmpty(pgid, 1000, pollMs);
}
