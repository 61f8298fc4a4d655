// How a chunk's lines are kept: `data` is the text with a newline after each line, `meta` is
// JSON [[timeMs, stream, step], …], one entry per line. Only the log store writes this format.
import type { LogLine } from '../../shared/protocol/messages.js';

export interface FormattedChunk {
  data: string;
  meta: string;
  bytes: number;            // UTF-8 size of data
}

/** A line never holds a newline in storage: one with embedded newlines becomes several. */
export function splitLines(lines: LogLine[]): LogLine[] {
  if (!lines.some((l) => l.text.includes('\n'))) return lines;
  return lines.flatMap((l) => l.text.split(/\r?\n/).map((text) => ({ ...l, text })));
}

/**
 * Builds both strings with `+=` rather than map/join: V8 keeps them as ropes, so a chunk of
 * 100,000 lines does not first make 200,000 small strings and two arrays to join.
 */
export function formatLines(lines: readonly LogLine[]): FormattedChunk {
  let data = '';
  let meta = '';
  for (const line of lines) {
    data += `${line.text}\n`;
    // stream is one of three plain words and t, step are numbers (or null): no escaping needed.
    meta += `${meta === '' ? '[' : ','}[${line.t},"${line.stream}",${line.step}]`;
  }
  return { data, meta: meta === '' ? '[]' : `${meta}]`, bytes: Buffer.byteLength(data, 'utf8') };
}
