// The lines that end a step's and a job's part of the log, so the last lines say what happened:
//
//   kiln: step 'npm test' exited with code 3 after 12 s
//   kiln: job failed: step 2 'npm test' exited with code 3
//   kiln: job succeeded in 14 s
import type { Status } from '../../shared/status.js';

/** 0.4 s, 12 s, 2 m 5 s, 1 h 2 m: exact where it matters, short where it does not. */
export function spokenDuration(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} m` : `${Math.floor(s / 60)} m ${s % 60} s`;
  const m = Math.round(s / 60);
  return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} m`;
}

/** What a step that ran came to, without its time: `exited with code 3`, `timed out`… */
export function stepOutcome(step: { status: Status; exitCode: number | null; reason: string | null }): string {
  if (step.reason === 'timeout') return 'timed out';
  if (step.status === 'cancelled') return 'was cancelled';
  if (step.status === 'error') return `could not run: ${step.reason ?? 'executor error'}`;
  if (step.exitCode !== null) return `exited with code ${step.exitCode}`;
  return `failed: ${step.reason ?? 'no exit code'}`;
}

/** The step's last line: `kiln: step 'npm test' exited with code 3 after 12 s`. */
export function stepOutcomeLine(
  step: { name: string; status: Status; exitCode: number | null; reason: string | null; durationMs: number },
  continueOnError: boolean,
): string {
  const goesOn = continueOnError && (step.status === 'failed' || step.status === 'error') ? ' (continue_on_error: the job goes on)' : '';
  return `kiln: step '${step.name}' ${stepOutcome(step)} after ${spokenDuration(step.durationMs)}${goesOn}`;
}

/**
 * The job's last line. `cause` says which step decided a failure (`step 2 'npm test' exited
 * with code 3`); without it the reason does.
 */
export function jobOutcomeLine(end: { status: Status; reason: string | null }, cause: string | null, durationMs: number): string {
  const took = spokenDuration(durationMs);
  switch (end.status) {
    case 'success': return `kiln: job succeeded in ${took}`;
    case 'failed': return `kiln: job failed: ${cause ?? (end.reason === 'timeout' ? 'it timed out' : end.reason ?? 'no reason given')} (after ${took})`;
    case 'cancelled': return `kiln: job cancelled${end.reason && end.reason !== 'cancelled' ? `: ${end.reason}` : ''} (after ${took})`;
    default: return `kiln: job ended in error: ${cause ?? end.reason ?? 'no reason given'} (after ${took})`;
  }
}
