// The store's domain types: camelCase objects, times as ISO-8601 UTC strings (or null).

import type { InputValue, PlannedJob, Plan, When } from '../../shared/pipeline/types.js';
import type { Status } from '../../shared/status.js';

/** Where the store reads the time from for writes that carry no explicit `now` (ms since epoch). */
export interface Clock {
  now(): number;
}

export const RUN_EVENTS = ['push', 'tag', 'pull_request', 'cron', 'manual', 'api'] as const;
export type RunEvent = (typeof RUN_EVENTS)[number];

export const AGENT_STATUSES = ['idle', 'busy', 'draining', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const TOKEN_KINDS = ['admin', 'agent', 'user'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** The statuses an agent may end a job with. */
export type JobOutcomeStatus = 'success' | 'failed' | 'cancelled' | 'error';

export interface Repo {
  id: number;
  name: string;
  path: string | null;      // a local repository…
  url: string | null;       // …or a remote one: exactly one is set
  defaultBranch: string;
  lastRunNumber: number;
  createdAt: string;
  /** A remote's poll interval; null: the default. */
  pollMs: number | null;
  /** Which sealed settings are set (their values come only from RepoStore.getRemoteSettings). */
  sealed: { webhookSecret: boolean; credentials: RepoCredentials['kind'] | null; forgeToken: boolean };
  webhookInsecure: boolean;
  /** A new push run cancels the older open runs of its branch, except on the default branch. */
  cancelSuperseded: boolean;
  forge: { kind: ForgeKind; apiUrl: string } | null;
  /** A remote's last successful sync, and the error of the last one that failed since (null once one succeeds). */
  sync: { syncedAt: string | null; error: string | null; errorAt: string | null };
}

export type ForgeKind = 'github' | 'gitlab' | 'gitea' | 'bitbucket';

/** How kiln authenticates to a remote: an HTTPS token (sent as a header) or an SSH deploy key. */
export type RepoCredentials = { kind: 'token'; token: string; username: string | null } | { kind: 'ssh_key'; sshKey: string };

/** A remote repo's settings, sealed ones opened: for fetching, hooks and statuses, never for views. */
export interface RemoteSettings {
  webhookSecret: string | null;
  credentials: RepoCredentials | null;
  forge: { kind: ForgeKind; apiUrl: string; token: string } | null;
}

/** What a pull-request run was made for (null for other events). */
export interface PullRequestInfo {
  number: number;
  sourceBranch: string;
  targetBranch: string;
  /** From another repository than the target's: the run's jobs get no secrets. */
  fromFork: boolean;
}

export interface Run {
  id: number;
  repoId: number;
  repo: string;             // the repo's name
  number: number;           // 1, 2, 3… per repo
  status: Status;
  event: RunEvent;
  ref: string | null;
  branch: string | null;
  tag: string | null;
  sha: string;
  message: string | null;
  error: string | null;     // why the run is `error` before any job ran (e.g. invalid pipeline)
  env: Record<string, string>;
  /** The values of the pipeline's `on.manual.inputs` (given, else their defaults); {} when it declares none. */
  inputs: Record<string, InputValue>;
  changedPaths: string[] | null;  // files the push changed; null when unknown
  rerunOf: number | null;
  /** 1, then one more for each re-run (of the run, its failed jobs, or one job) inside the run. */
  attempt: number;
  pullRequest: PullRequestInfo | null;
  /** Who asked for a manual or API run (a user's name, or the token's kind); null for an event's run. */
  triggeredBy?: string | null;
  /** Why the run's jobs were cancelled ("cancelled", "superseded by run #8"); null when they were not. */
  cancelReason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunDetail extends Run {
  plan: Plan | null;        // null when the pipeline did not validate
  jobs: JobWithSteps[];
}

export interface Job {
  id: number;
  runId: number;
  idx: number;              // position in the plan (topological order)
  name: string;
  status: Status;
  needs: string[];
  runsOn: string[];
  concurrency: string | null;
  allowFailure: boolean;
  approval: boolean;
  agent: string | null;     // name of the agent of the current or last attempt
  attempt: number;          // 0 until first claimed; every claim starts a new attempt
  runAttempt: number;       // the run's attempt this job last ran (or waits to run) in
  retriesLeft: number;
  exitCode: number | null;
  reason: string | null;
  queuedAt: string;
  readyAt: string | null;   // null: waits for its needs (or approval); claimable once set
  startedAt: string | null;
  finishedAt: string | null;
  plan: PlannedJob;
}

/** An attempt of a run: the run itself for the current one, kept rows for the earlier ones. */
export interface RunAttempt {
  attempt: number;
  status: Status;
  jobs: string[];           // the jobs this attempt ran (all of them for attempt 1)
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** How a job ended in an earlier run attempt, kept when a re-run put it back in the queue. */
export interface JobAttempt {
  jobId: number;
  runAttempt: number;
  attempt: number;          // the job's own attempt (its log) it ended on
  status: Status;
  exitCode: number | null;
  reason: string | null;
  agent: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  steps: Step[];
}

/** A job as the scheduler sees it: status and graph, no plan. */
export interface JobState {
  id: number;
  name: string;
  status: Status;
  needs: string[];
  ready: boolean;           // claimable once queued (ready_at set)
  allowFailure: boolean;
  approval: boolean;
  when: When | null;        // the plan's `when`, without reading the rest of the plan
}

export interface Step {
  jobId: number;
  idx: number;
  name: string;
  status: Status;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobWithSteps extends Job {
  steps: Step[];
}

/** Why a queued job is not running; null: it waits only for an agent with its labels. */
export type QueueWait = 'needs' | 'approval' | 'concurrency' | null;

export interface QueuedJob extends Job {
  waiting: QueueWait;
}

export interface LogChunk {
  jobId: number;
  attempt: number;
  seq: number;              // the agent's chunk number, from 0 per attempt
  data: string;
  meta: string;             // JSON: each line's time, stream and step (read it with parseLines, log-format.ts)
  lines: number;            // newline characters in `data`
  firstLine: number;        // 0-based number of its first line, given at append from the attempt's counter
  bytes: number;            // UTF-8 size of `data`
  createdAt: string;
}

export interface Agent {
  id: number;
  name: string;
  labels: string[];
  pool: string | null;      // null: started by hand
  capacity: number;
  status: AgentStatus;
  protocol: number;
  version: string | null;
  jobs: number[];           // ids of the jobs it holds leases on
  connectedAt: string | null;
  lastSeenAt: string | null;
  createdAt: string;
}

export interface Lease {
  jobId: number;
  agentId: number;
  token: string;            // fencing token: 128 random bits, new for every claim
  acquiredAtMs: number;
  expiresAtMs: number;
}

export interface ApiToken {
  id: number;
  kind: TokenKind;
  name: string;
  createdAt: string;
}
