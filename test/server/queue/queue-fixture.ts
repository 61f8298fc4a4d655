// A job queue on a real SQLite store with a hand-driven clock, and agents as in-memory links
// that record the frames the queue sends them. Dispatch runs at once, in the call that changed things.
import { pino } from 'pino';
import type { ServerMessage } from '../../../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../../shared/protocol/messages.js';
import { createEventBus, type KilnEvent } from '../../../server/events.js';
import { createJobQueue, type AgentLink, type JobQueueOptions } from '../../../server/queue/job-queue.js';
import type { JobAssignment } from '../../../shared/protocol/messages.js';
import { newRun, plan, tempStore } from '../store/fixtures.js';
import type { PlannedJob } from '../../../shared/pipeline/types.js';

export const LEASE_MS = 30_000;

export interface TestLink extends AgentLink {
  lastHeardMs: number;
  sent: ServerMessage[];
  closed: { code: number; reason: string } | null;
  /** Assignments received, in order. */
  jobs(): JobAssignment[];
}

export function queueFixture(over: Partial<JobQueueOptions> = {}) {
  const { store, clock } = tempStore();
  const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const bus = createEventBus();
  const events: KilnEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const queue = createJobQueue({
    store, bus, logger: pino({ level: 'silent' }), leaseMs: LEASE_MS, logCapBytes: 1024 * 1024,
    serverUrl: () => 'http://127.0.0.1:1', now: clock.now, ...over,
  });

  const link = (open = true): TestLink => {
    const l: TestLink = {
      remote: '127.0.0.1:1', lastHeardMs: clock.now(), sent: [], closed: null,
      send: (m) => {
        if (!open || l.closed) return false;
        l.sent.push(m);
        return true;
      },
      sendAll: (messages) => messages.every((m) => l.send(m)),
      close: (code, reason) => {
        l.closed = { code, reason };
      },
      jobs: () => l.sent.flatMap((m) => (m.type === 'job' ? [m.assignment] : [])),
    };
    return l;
  };

  /** Connects an agent on a new link. */
  const agent = (name: string, over: { labels?: string[]; capacity?: number; jobs?: Array<{ jobId: number; attempt: number; token: string }>; link?: TestLink } = {}) => {
    const l = over.link ?? link();
    const slot = queue.connect(l, {
      name, labels: over.labels ?? ['linux'], capacity: over.capacity ?? 1, pool: null, protocol: PROTOCOL_VERSION, version: 'test', jobs: over.jobs ?? [],
    });
    return { link: l, slot };
  };

  /** Creates a run of `jobs` and lets the queue schedule it. */
  const run = (...jobs: PlannedJob[]) => {
    const created = store.runs.createRun(newRun(repo.id, { plan: plan(...jobs) }));
    queue.runChanged(created.id);
    return created;
  };

  const job = (runId: number, name: string) => store.runs.getRun(runId)!.jobs.find((j) => j.name === name)!;

  /** Every link and heard-from time moves with the clock (agents that answer pings). */
  const advance = (ms: number, ...alive: TestLink[]) => {
    clock.advance(ms);
    for (const l of alive) l.lastHeardMs = clock.now();
    queue.tick();
  };

  const done = (l: TestLink, a: JobAssignment, status: 'success' | 'failed' | 'error' = 'success', extra: { refused?: true; token?: string } = {}) =>
    queue.receive(l, { type: 'done', jobId: a.jobId, token: extra.token ?? a.token, attempt: a.attempt, status, exitCode: status === 'success' ? 0 : 1, reason: null, lastSeq: -1, at: clock.now(), ...(extra.refused ? { refused: true as const } : {}) });

  const log = (l: TestLink, a: JobAssignment, seq: number, text: string, token = a.token) =>
    queue.receive(l, { type: 'log', jobId: a.jobId, token, attempt: a.attempt, seq, lines: [{ t: clock.now(), stream: 'stdout', text, step: 0 }] });

  const logText = (jobId: number) => store.logs.readLog(jobId, store.jobs.getJob(jobId)!.attempt).map((c) => c.data).join('');

  return { store, clock, queue, bus, repo, events, link, agent, run, job, advance, done, log, logText };
}
