// How a chunk's lines are kept. Only the log store writes this format, and it reads both forms:
//   data  the text, a newline after each line
//   meta  {"t":[[timeMs, n], …], "s":[[stream, step, n], …]}: runs of equal times and of equal
//         (stream, step), n lines each, in line order (from migration 3 on), or
//         [[timeMs, stream, step], …], one entry per line (chunks stored before).
// Runs keep meta small: a chunk of 9,000 fast lines has a few dozen runs, not 9,000 entries.
import type { LogLine } from '../../shared/protocol/messages.js';

export interface FormattedChunk {
  data: string;
  meta: string;
  bytes: number;            // UTF-8 size of data
}

/** One stored line, as readers get it back; t is null when a chunk has no readable meta. */
export interface StoredLine {
  text: string;
  t: number | null;
  stream: string;
  step: number | null;
}

/** A line never holds a newline in storage: one with embedded newlines becomes several. */
export function splitLines(lines: LogLine[]): LogLine[] {
  if (!lines.some((l) => l.text.includes('\n'))) return lines;
  return lines.flatMap((l) => l.text.split(/\r?\n/).map((text) => ({ ...l, text })));
}

export function formatLines(lines: readonly LogLine[]): FormattedChunk {
  const times: Array<[number, number]> = [];
  const kinds: Array<[string, number | null, number]> = [];
  const texts = new Array<string>(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    texts[i] = line.text;
    const time = times[times.length - 1];
    if (time && time[0] === line.t) time[1]++;
    else times.push([line.t, 1]);
    const kind = kinds[kinds.length - 1];
    if (kind && kind[0] === line.stream && kind[1] === line.step) kind[2]++;
    else kinds.push([line.stream, line.step, 1]);
  }
  const data = lines.length === 0 ? '' : `${texts.join('\n')}\n`;
  return { data, meta: JSON.stringify({ t: times, s: kinds }), bytes: Buffer.byteLength(data, 'utf8') };
}

/** The first `count` lines of a stored chunk with their time, stream and step. */
export function parseLines(data: string, meta: string, count: number): StoredLine[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(meta);
  } catch {
    // a chunk without readable meta still has its text
  }
  const texts = data.split('\n', count);
  const lines: StoredLine[] = texts.map((text) => ({ text, t: null, stream: 'stdout', step: null }));
  if (Array.isArray(parsed)) {
    parsed.slice(0, lines.length).forEach((m: unknown, i) => {
      const [t, stream, step] = Array.isArray(m) ? m : [];
      lines[i] = { text: lines[i]!.text, ...metaOf(t, stream, step) };
    });
  } else if (typeof parsed === 'object' && parsed !== null) {
    const { t = [], s = [] } = parsed as { t?: unknown; s?: unknown };
    eachRun(t, lines.length, (run, i) => (lines[i]!.t = typeof run[0] === 'number' ? run[0] : null));
    eachRun(s, lines.length, (run, i) => {
      const { stream, step } = metaOf(null, run[0], run[1]);
      lines[i]!.stream = stream;
      lines[i]!.step = step;
    });
  }
  return lines;
}

function metaOf(t: unknown, stream: unknown, step: unknown): Omit<StoredLine, 'text'> {
  return {
    t: typeof t === 'number' ? t : null,
    stream: typeof stream === 'string' ? stream : 'stdout',
    step: typeof step === 'number' ? step : null,
  };
}

/** Calls `each` for every line index a run list covers (the count is a run's last element). */
function eachRun(runs: unknown, max: number, each: (run: unknown[], index: number) => void): void {
  if (!Array.isArray(runs)) return;
  let index = 0;
  for (const run of runs) {
    if (!Array.isArray(run)) return;
    const n = run[run.length - 1];
    if (typeof n !== 'number') return;
    for (let k = 0; k < n && index < max; k++) each(run, index++);
  }
}
