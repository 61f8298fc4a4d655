// Runs one step as a `docker exec` in the job container and settles it: exit, output, stop.
import { type Duplex, Writable } from 'node:stream';
import { constants } from 'node:os';
import type Docker from 'dockerode';
import type { OutputStream, StepEndReason, StepOutcome } from '../executor.js';
import { exitCodeOf } from './exec-command.js';
import { daemonMessage } from './images.js';
import { STEP_WRAPPER, stopStepGroup } from './step-group.js';
import { setLongTimeout, type CancelTimeout } from '../long-timeout.js';

const CLOSE_AFTER_STOP_MS = 500;

export interface ExecStepOptions {
  docker: Docker;
  container: Docker.Container;
  /** The step's shell and script, e.g. `['sh', '-e', '/.kiln/step-0.sh']`. */
  command: string[];
  pgidFile: string;
  env: Record<string, string>;
  /** undefined: the container's user. */
  user: string | undefined;
  workdir: string;
  timeoutMs: number | null;
  signal: AbortSignal;
  graceMs: number;
  /** How long output may stay open after the step's shell exited before its group is stopped. */
  drainMs: number;
  /** How often the daemon is asked whether the shell has exited while output is still open. */
  pollMs: number;
  onOutput(stream: OutputStream, data: Buffer): void;
  /** System lines (a stop that did not go as planned). */
  log(text: string): void;
}

/**
 * Resolves when the step's shell has exited, its output has ended and any stop has finished.
 * Never rejects: a step the daemon would not start is `{ exitCode: null, reason: 'error' }`.
 *
 *   started ──(poll: exited)──▶ draining ──stream end──▶ done
 *      │                            └──drainMs──▶ stopping (group TERM → KILL) ──▶ done
 *      ├──stream end──▶ done
 *      └──timeout / abort──▶ stopping ──▶ done
 */
export async function runExecStep(o: ExecStepOptions): Promise<StepOutcome> {
  if (o.signal.aborted) return { exitCode: null, reason: 'cancelled' };
  let exec: Docker.Exec;
  let stream: Duplex;
  try {
    exec = await o.container.exec({
      Cmd: ['sh', '-c', STEP_WRAPPER, 'kiln-step', o.pgidFile, ...o.command],
      Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: o.workdir,
      AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
      ...(o.user !== undefined ? { User: o.user } : {}),
    });
    if (o.signal.aborted) return { exitCode: null, reason: 'cancelled' };
    stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  } catch (err) {
    return { exitCode: null, reason: 'error', message: `cannot start the step: ${daemonMessage(err)}` };
  }
  return settle(o, exec, stream);
}

function settle(o: ExecStepOptions, exec: Docker.Exec, stream: Duplex): Promise<StepOutcome> {
  return new Promise((resolve) => {
    let reason: StepEndReason | undefined;
    let exitedFirst = false; // the shell exited on its own before any stop
    let closed = false;
    let stopping: 'no' | 'running' | 'done' = 'no';
    let finishing = false;
    let settled = false;
    // Long-timeout safe: one of these is the step's own `timeout`, which may be days.
    const timers: CancelTimeout[] = [];
    const after = (ms: number, fn: () => void) => timers.push(setLongTimeout(fn, ms));

    const finish = () => {
      if (!closed || stopping === 'running' || finishing) return;
      finishing = true;
      void exitCodeOf(exec).then((code) => {
        settled = true;
        timers.forEach((cancel) => cancel());
        clearTimeout(pollTimer);
        o.signal.removeEventListener('abort', onAbort);
        resolve(outcomeOf(code, reason, exitedFirst));
      });
    };
    const stop = (why: StepEndReason | undefined) => {
      if (finishing) return; // it ended on its own meanwhile
      reason ??= why;
      if (stopping !== 'no') return;
      stopping = 'running';
      void stopStepGroup(o.container, o.pgidFile, o.graceMs).then((problem) => {
        if (problem) o.log(problem);
        stopping = 'done';
        finish();
        // A process that left the group could hold the output open: after a moment, stop reading.
        after(CLOSE_AFTER_STOP_MS, () => {
          if (closed) return;
          stream.destroy();
          closed = true;
          finish();
        });
      });
    };
    const onAbort = () => stop('cancelled');
    // Why poll: the daemon keeps the output open while anything holds it, so the stream's end
    // does not say that the shell exited; the exec's state does. Every pollMs at first, then
    // less often for long steps (at most every 1 s).
    let pollTimer: NodeJS.Timeout | undefined;
    let pollEveryMs = o.pollMs;
    const poll = () => {
      if (closed || settled || exitedFirst || stopping !== 'no') return;
      void exec.inspect().then((info) => {
        if (info.Running || closed || stopping !== 'no') return;
        exitedFirst = true;
        after(o.drainMs, () => stop(undefined));
      }).catch(() => undefined).finally(() => {
        pollEveryMs = Math.min(Math.round(pollEveryMs * 1.25), Math.max(o.pollMs, 1000));
        if (!settled) pollTimer = setTimeout(poll, pollEveryMs);
      });
    };
    pollTimer = setTimeout(poll, pollEveryMs);
    if (o.timeoutMs !== null) after(o.timeoutMs, () => stop('timeout'));

    const sink = (name: OutputStream) => new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (!settled) o.onOutput(name, chunk);
        done();
      },
    });
    o.docker.modem.demuxStream(stream, sink('stdout'), sink('stderr'));
    const onClosed = () => {
      closed = true;
      finish();
    };
    stream.on('end', onClosed);
    stream.on('close', onClosed);
    stream.on('error', onClosed);
    o.signal.addEventListener('abort', onAbort, { once: true });
    if (o.signal.aborted) onAbort(); // aborted while the exec was starting
  });
}

/** A step we stopped while it ran reports the signal that ended it (exit 128+n), like host steps. */
function outcomeOf(code: number | null, reason: StepEndReason | undefined, exitedFirst: boolean): StepOutcome {
  if (code === null && reason === undefined) {
    return { exitCode: null, reason: 'error', message: 'the step ended without an exit code (is the container gone?)' };
  }
  const outcome: StepOutcome = { exitCode: code };
  if (reason && !exitedFirst && code !== null && code > 128) {
    const signal = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (signal) Object.assign(outcome, { exitCode: null, signal: signal as NodeJS.Signals });
  }
  if (reason) outcome.reason = reason;
  return outcome;
}
