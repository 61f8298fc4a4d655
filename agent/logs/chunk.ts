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

/** What a line weighs against chunk sizes and the job's cap: its UTF-8 bytes and a newline. */
export function lineBytes(line: LogLine): number {
  return Buffer.byteLength(line.text) + 1;
}
