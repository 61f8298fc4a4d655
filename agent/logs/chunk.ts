// The shapes of a job's log as it travels: lines grouped into numbered chunks (plain JSON).

import type { LogLine } from '../../shared/protocol/messages.js';

export type { LogLine };
/** `system` lines come from kiln itself (step markers, truncation), never from the job. */
export type LogStream = LogLine['stream'];

/**
 * A numbered batch of lines. `seq` counts 0, 1, 2… per job attempt with no gaps, so the
 * server can store each chunk once, in order, and acknowledge it by `seq`.
 */
export interface LogChunk {
  jobId: number;
  attempt: number;
  seq: number;
  lines: LogLine[];
}

/** Room for a `log` frame's own fields around its lines (a token is at most 64 characters). */
export const FRAME_HEAD_BYTES = 192;
// `{"t":…,"stream":"…","step":…,"text":"…"}` and the comma after it, without the values.
const LINE_KEYS_BYTES = 35;
// Characters JSON.stringify writes as escapes (lone surrogates included): such a text is measured by encoding it.
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A line's UTF-8 bytes in a `log` frame's JSON, given `textBytes`, its text's UTF-8 bytes. */
export function lineFrameBytes(line: LogLine, textBytes: number): number {
  const text = ESCAPED.test(line.text) ? Buffer.byteLength(JSON.stringify(line.text)) : textBytes + 2;
  const t = Number.isInteger(line.t) && line.t >= 1e12 && line.t < 1e13 ? 13 : String(line.t).length;
  const step = line.step === null ? 4 : String(line.step).length;
  return LINE_KEYS_BYTES + t + line.stream.length + step + text;
}
