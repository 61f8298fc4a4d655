// What the cost view reads (issue 13): agents' connection spans, the time agents held jobs and
// when started jobs had begun to wait, each bounded to a time range through a time index.
import type { Sqlite } from './db.js';

/** One connection of an agent: `disconnectedMs` null while it is still connected. */
export interface AgentSpan { agent: string; pool: string | null; connectedMs: number; disconnectedMs: number | null }
/** An agent holding a job (an attempt of it): `finishedMs` null while it still runs. */
export interface BusySpan { agent: string; startedMs: number; finishedMs: number | null }
/** A job that started: since when it waited (ready, or queued), on which agent, for which labels. */
export interface StartedJob { agent: string | null; runsOn: string[]; waitingSinceMs: number; startedMs: number }

/** Reads for the cost view; every range is [fromMs, toMs) in ms since epoch. */
export interface UsageStore {
  /** The spans that overlap the range, by connection time. */
  listAgentSpans(fromMs: number, toMs: number): AgentSpan[];
  /** The jobs and kept attempts agents held during the range (still running ones too). */
  listBusySpans(fromMs: number, toMs: number): BusySpan[];
  /** The jobs that started in the range (their current attempt). */
  listStartedJobs(fromMs: number, toMs: number): StartedJob[];
  /** When the first kept span began (kiln has watched agents since), or null before any connected. */
  firstSpanAt(): number | null;
  /** Deletes up to `batch` spans that ended before `cutoffMs` (for the retention sweeper); how many. */
  sweepSpansBefore(cutoffMs: number, batch: number): number;
}

/** The spans as a retention sweepable (server/retention/sweeper.ts), swept at the audit log's age. */
export const agentSpansSweepable = (usage: UsageStore) => ({ name: 'agent_spans', sweepBefore: (cutoffMs: number, batch: number) => usage.sweepSpansBefore(cutoffMs, batch) });

interface SpanRow { agent: string; pool: string | null; connected_at: number; disconnected_at: number | null }
interface BusyRow { agent: string; started_at: number; finished_at: number | null }
interface StartedRow { agent: string | null; runs_on: string; waiting_since: number; started_at: number }

export function createUsageStore(db: Sqlite): UsageStore {
  // Why halves joined by UNION ALL: each is bounded by an index (the end time, or the open
  // ones), where one OR over both would scan every row. `+started_at` keeps the planner off the
  // start index, which would bound only one side (every job that started before the range's end);
  // the IN repeats jobs_open's condition word for word so that the planner may use that index.
  const stmt = {
    spans: db.prepare<{ from: number; to: number }, SpanRow>(
      `SELECT agent, pool, connected_at, disconnected_at FROM agent_spans WHERE disconnected_at > @from AND connected_at < @to
       UNION ALL
       SELECT agent, pool, connected_at, disconnected_at FROM agent_spans WHERE disconnected_at IS NULL AND connected_at < @to
       ORDER BY connected_at`,
    ),
    busy: db.prepare<{ from: number; to: number }, BusyRow>(
      `SELECT agent, started_at, finished_at FROM jobs
         WHERE finished_at > @from AND +started_at < @to AND agent IS NOT NULL
       UNION ALL
       SELECT agent, started_at, NULL FROM jobs
         WHERE status IN ('queued','blocked','running') AND status = 'running' AND +started_at < @to AND agent IS NOT NULL
       UNION ALL
       SELECT agent, started_at, finished_at FROM job_attempts
         WHERE finished_at > @from AND +started_at < @to AND agent IS NOT NULL`,
    ),
    started: db.prepare<{ from: number; to: number }, StartedRow>(
      `SELECT agent, runs_on, COALESCE(ready_at, queued_at) AS waiting_since, started_at FROM jobs
       WHERE started_at >= @from AND started_at < @to ORDER BY started_at`,
    ),
    first: db.prepare<[], number | null>('SELECT MIN(connected_at) FROM agent_spans').pluck(),
    sweep: db.prepare<[number, number]>(
      'DELETE FROM agent_spans WHERE id IN (SELECT id FROM agent_spans WHERE disconnected_at < ? ORDER BY disconnected_at LIMIT ?)',
    ),
  };
  return {
    listAgentSpans: (from, to) => stmt.spans.all({ from, to }).map((r) => ({
      agent: r.agent, pool: r.pool, connectedMs: r.connected_at, disconnectedMs: r.disconnected_at,
    })),
    listBusySpans: (from, to) => stmt.busy.all({ from, to }).map((r) => ({ agent: r.agent, startedMs: r.started_at, finishedMs: r.finished_at })),
    listStartedJobs: (from, to) => stmt.started.all({ from, to }).map((r) => ({
      agent: r.agent, runsOn: JSON.parse(r.runs_on) as string[], waitingSinceMs: r.waiting_since, startedMs: r.started_at,
    })),
    firstSpanAt: () => stmt.first.get() ?? null,
    sweepSpansBefore: (cutoff, batch) => stmt.sweep.run(cutoff, batch).changes,
  };
}
