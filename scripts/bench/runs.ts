// Runs for benchmarks: triggering many through the API with bounded concurrency, and seeing
// them end on the `/api/events` socket (what a dashboard sees), never by polling each run.
import WebSocket from 'ws';
import type { BenchServer } from './harness.js';

const FINAL = new Set(['success', 'failed', 'cancelled', 'skipped', 'error']);

export interface TriggeredJob { id: number; queued_at: string }
export interface TriggeredRun {
  id: number;
  jobs: TriggeredJob[];
  /** Client clock (ms since the epoch, fractional): the POST was sent / answered. */
  sentMs: number;
  answeredMs: number;
}

/** Wall-clock ms with sub-ms precision, comparable across processes on this machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * `POST /api/repos/:repo/runs` `count` times, at most `concurrency` in flight (each worker
 * sends its next trigger when its previous one is answered). Results in trigger order.
 */
export async function triggerRuns(server: BenchServer, repo: string, count: number, concurrency: number, body: object = {}): Promise<TriggeredRun[]> {
  const runs: TriggeredRun[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const sentMs = nowMs();
      const run = await server.api<{ id: number; jobs: TriggeredJob[] }>('POST', `/api/repos/${encodeURIComponent(repo)}/runs`, body);
      runs[i] = { id: run.id, jobs: run.jobs, sentMs, answeredMs: nowMs() };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return runs;
}

export interface EndedRun { status: string; finishedMs: number; seenMs: number }

export interface RunWatch {
  /** How run `id` ended, once its final event came (a run may end before its POST is answered). */
  ended(id: number): EndedRun | undefined;
  /** Resolves when every run in `ids` has ended; rejects after `timeoutMs`. */
  waitAll(ids: readonly number[], timeoutMs: number): Promise<EndedRun[]>;
  close(): void;
}

/** Opens `/api/events` and records every run's final event (its finished_at, and when it was seen). */
export async function watchRuns(server: BenchServer): Promise<RunWatch> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/events`, { perMessageDeflate: false });
  const ended = new Map<number, EndedRun>();
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    const event = JSON.parse(data.toString()) as { type: string; run?: { id: number; status: string; finished_at: string | null } };
    if (event.type !== 'run' || !event.run || !FINAL.has(event.run.status) || ended.has(event.run.id)) return;
    ended.set(event.run.id, { status: event.run.status, finishedMs: Date.parse(event.run.finished_at ?? ''), seenMs: nowMs() });
    for (const wake of [...waiters]) wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('close', (code) => {
    if (code !== 1000 && code !== 1005) console.error(`the events socket closed (${code}); runs ending after this are not seen`);
  });
  return {
    ended: (id) => ended.get(id),
    waitAll(ids, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!ids.every((id) => ended.has(id))) return;
          finish();
          resolve(ids.map((id) => ended.get(id)!));
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${ids.filter((id) => !ended.has(id)).length} of ${ids.length} runs did not end within ${timeoutMs} ms`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => ws.close(1000),
  };
}
