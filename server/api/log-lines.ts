// `GET /api/jobs/:id/lines?from=N&limit=M[&attempt=A][&q=TEXT]`: a window of a job's log as
// numbered lines (1-based, the same numbering as the text log and the `log` events), for the
// dashboard's virtualized viewer. Only the chunks that hold the window are read.
import type { Context } from 'hono';
import { KilnError } from '../../shared/errors.js';
import { parseLines, shownAttempt, type Store } from '../store/index.js';

export const MAX_LINES = 5000;
export const DEFAULT_LINES = 1000;
export const MAX_MATCHES = 1000;
export const MAX_MARKERS = 10_000;
const MARKER = '\u25b6 ';
const SCAN_LINES = 50_000;    // lines read at once by a search or the markers

export interface WireLine {
  n: number;
  t: number | null;
  stream: string;
  step: number | null;
  text: string;
}

export interface LinesAnswer {
  job_id: number;
  attempt: number;
  total: number;
  from: number;
  lines: WireLine[];
  steps: Array<{ idx: number; name: string; status: string }>;
  /** With markers=1: each step's first line (`▶ name`, stream system), for folding. */
  markers?: Array<{ n: number; step: number | null; text: string }>;
  matches?: number[];
  matches_truncated?: boolean;
}

// The ANSI escapes a search should see through (SGR and the other CSI sequences).
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** Every chunk of the attempt, read a window of lines at a time: a long log is never in memory whole. */
function* wholeLog(store: Store, jobId: number, attempt: number, total: number) {
  for (let from = 0; from < total; ) {
    let next = from + SCAN_LINES;
    for (const chunk of store.logs.readLogRange(jobId, attempt, from, next)) {
      if (chunk.firstLine < from) continue; // started in the window before: already seen
      yield chunk;
      next = Math.max(next, chunk.firstLine + chunk.lines);
    }
    from = next;
  }
}

function intQuery(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new KilnError('bad_input', `${name} must be a non-negative integer`);
  return value;
}

export function readLines(store: Store, jobId: number, query: { from?: number; limit?: number; attempt?: number; q?: string; markers?: boolean }): LinesAnswer {
  const job = store.jobs.getJobWithSteps(jobId);
  if (!job) throw new KilnError('not_found', `no job ${jobId}`);
  const attempt = shownAttempt(job, query.attempt);
  const total = store.logs.countLogLines(jobId, attempt);
  const limit = Math.min(Math.max(query.limit ?? DEFAULT_LINES, 0), MAX_LINES);
  // 1-based; default: the last `limit` lines.
  const from = Math.max(1, query.from ?? total - limit + 1);
  const lines: WireLine[] = [];
  if (limit > 0 && from <= total) {
    const start = from - 1;               // 0-based, inclusive
    const end = Math.min(total, start + limit);
    for (const chunk of store.logs.readLogRange(jobId, attempt, start, end)) {
      const parts = parseLines(chunk.data, chunk.meta, chunk.lines);
      for (let i = Math.max(0, start - chunk.firstLine); i < parts.length && chunk.firstLine + i < end; i++) {
        lines.push({ n: chunk.firstLine + i + 1, ...parts[i]! });
      }
    }
  }
  const answer: LinesAnswer = {
    job_id: jobId, attempt, total, from, lines,
    steps: job.steps.map((s) => ({ idx: s.idx, name: s.name, status: s.status })),
  };
  if (query.markers) {
    const markers: NonNullable<LinesAnswer['markers']> = [];
    for (const chunk of wholeLog(store, jobId, attempt, total)) {
      if (!chunk.data.startsWith(MARKER) && !chunk.data.includes(`\n${MARKER}`)) continue;
      parseLines(chunk.data, chunk.meta, chunk.lines).forEach((line, i) => {
        if (line.text.startsWith(MARKER) && line.stream === 'system' && markers.length < MAX_MARKERS) {
          markers.push({ n: chunk.firstLine + i + 1, step: line.step, text: line.text });
        }
      });
    }
    answer.markers = markers;
  }
  const q = query.q?.toLowerCase();
  if (q) {
    const matches: number[] = [];
    let truncated = false;
    outer: for (const chunk of wholeLog(store, jobId, attempt, total)) {
      const texts = chunk.data.split('\n', chunk.lines);
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i]!;
        if (!text.toLowerCase().includes(q) && !text.replace(ANSI, '').toLowerCase().includes(q)) continue;
        if (matches.length >= MAX_MATCHES) {
          truncated = true;
          break outer;
        }
        matches.push(chunk.firstLine + i + 1);
      }
    }
    answer.matches = matches;
    answer.matches_truncated = truncated;
  }
  return answer;
}

/** The route handler; `id` parses and checks the `:id` parameter the way the rest of the API does. */
export function linesHandler(store: Store, id: (c: Context) => number) {
  return (c: Context) => {
    const q = c.req.query('q');
    const answer = readLines(store, id(c), {
      from: intQuery(c, 'from'), limit: intQuery(c, 'limit'), attempt: intQuery(c, 'attempt') || undefined,
      ...(q ? { q: q.slice(0, 200) } : {}), markers: ['1', 'true'].includes(c.req.query('markers') ?? ''),
    });
    return c.json(answer, 200, { 'cache-control': 'no-cache' });
  };
}
