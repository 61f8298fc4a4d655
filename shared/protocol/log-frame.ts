// A hand-written check of `log` frames, the one message that carries up to 100,000 lines: it
// takes the parsed frame as it is instead of letting zod copy every line. The zod schema in
// agent-schema.ts stays the contract; test/shared/protocol/log-frame.test.ts checks both agree.
import type { AgentMessage } from './agent-schema.js';

export type LogMessage = Extract<AgentMessage, { type: 'log' }>;

const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_LINES = 100_000;
const STREAMS: ReadonlySet<unknown> = new Set(['stdout', 'stderr', 'system']);

const isInt = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** Own keys of a parsed JSON object, counted without making an array of them. */
function keyCount(o: object): number {
  let n = 0;
  for (const key in o) if (Object.hasOwn(o, key)) n++;
  return n;
}

function isLine(l: unknown): boolean {
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return false;
  const line = l as Record<string, unknown>;
  return typeof line.t === 'number' && Number.isFinite(line.t) && line.t >= 0
    && STREAMS.has(line.stream) && typeof line.text === 'string'
    && (line.step === null || isInt(line.step, 0))
    && keyCount(line) === 4;
}

/**
 * The frame as a `log` message when it is one exactly as the schema wants it, with no other
 * keys (zod would strip them, so such a frame is left to zod); null: let the schema decide
 * (and explain what is wrong).
 */
export function fastLogMessage(data: unknown): LogMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  if (m.type !== 'log' || !isInt(m.jobId, 1) || !isInt(m.attempt, 1) || !isInt(m.seq, 0)) return null;
  if (typeof m.token !== 'string' || !TOKEN.test(m.token)) return null;
  if (!Array.isArray(m.lines) || m.lines.length > MAX_LINES || keyCount(m) !== 6) return null;
  for (const line of m.lines as unknown[]) if (!isLine(line)) return null;
  return m as unknown as LogMessage;
}
