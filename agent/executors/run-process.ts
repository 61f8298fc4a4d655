// Runs one command as the leader of its own process group and settles it: exit, output, stop.
import { spawn } from 'node:child_process';
import type { OutputStream, StepEndReason, StepOutcome } from './executor.js';
import { stopGroup } from './process-group.js';
import { setLongTimeout, type CancelTimeout } from './long-timeout.js';

const CLOSE_AFTER_STOP_MS = 500;

export interface RunProcessOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number | null;
  signal: AbortSignal;
  /** SIGTERM → SIGKILL delay when stopping. */
  graceMs: number;
  /** How long output may stay open after the main process exited before the group is stopped. */
  drainMs: number;
  onOutput(stream: OutputStream, data: Buffer): void;
  /** Called with the pid (= the process group id) once the process started. */
  onSpawn?(pid: number): void;
}

/**
 * Resolves when the main process has exited, its stdout/stderr have ended and any stop has
 * finished. Never rejects: a spawn failure is `{ exitCode: null, reason: 'error' }`.
 *
 *   spawned ──exit──▶ draining ──close──▶ done
 *      │                 └──drainMs──▶ stopping (group TERM → KILL) ──▶ done
 *      └──timeout / abort──▶ stopping ──▶ done
 */
export function runProcess(o: RunProcessOptions): Promise<StepOutcome> {
  if (o.signal.aborted) return Promise.resolve({ exitCode: null, reason: 'cancelled' });
  return new Promise((resolve) => {
    const child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: o.env,
      detached: true, // its own process group, so a stop reaches the whole tree
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    let reason: StepEndReason | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let closed = false;
    let stopping: 'no' | 'running' | 'done' = 'no';
    let settled = false;
    // Long-timeout safe: one of these is the step's own `timeout`, which may be days.
    const timers: CancelTimeout[] = [];
    const after = (ms: number, fn: () => void) => timers.push(setLongTimeout(fn, ms));

    const settle = (outcome: StepOutcome) => {
      if (settled) return;
      settled = true;
      timers.forEach((cancel) => cancel());
      o.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const maybeSettle = () => {
      if (!exit || !closed || stopping === 'running') return;
      const outcome: StepOutcome = { exitCode: exit.code };
      if (exit.signal) outcome.signal = exit.signal;
      if (reason) outcome.reason = reason;
      settle(outcome);
    };
    const stop = (why: StepEndReason | undefined) => {
      reason ??= why;
      if (stopping !== 'no' || pid === undefined) return;
      stopping = 'running';
      void stopGroup(pid, o.graceMs).then(() => {
        stopping = 'done';
        maybeSettle();
        // The group is gone; its last output may still be on its way. A process that left the
        // group (setsid) could hold the pipes forever: after CLOSE_AFTER_STOP_MS, stop reading.
        after(CLOSE_AFTER_STOP_MS, () => {
          if (closed) return;
          child.stdout?.destroy();
          child.stderr?.destroy();
          closed = true;
          maybeSettle();
        });
      });
    };
    const onAbort = () => stop('cancelled');
    if (o.timeoutMs !== null) after(o.timeoutMs, () => stop('timeout'));

    child.stdout?.on('data', (data: Buffer) => settled || o.onOutput('stdout', data));
    child.stderr?.on('data', (data: Buffer) => settled || o.onOutput('stderr', data));
    child.on('error', (err) => {
      if (pid === undefined) settle({ exitCode: null, reason: 'error', message: `cannot start ${o.command}: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (stopping === 'no' && !closed) after(o.drainMs, () => stop(undefined));
      maybeSettle();
    });
    child.on('close', () => {
      closed = true;
      maybeSettle();
    });
    if (pid === undefined) return;
    o.onSpawn?.(pid);
    o.signal.addEventListener('abort', onAbort, { once: true });
  });
}
