// The plan: what a validated pipeline.yml becomes. Executors and the scheduler see only this,
// never YAML. Every value is plain JSON so the plan can be stored and sent over the wire.
import type { NotifyRule } from './notify.js';
export type { NotifyEvent, NotifyRule, NotifyTarget } from './notify.js';

/** A `when` condition kept as data; the scheduler (jobs) or the agent (steps) evaluates it. */
export interface When {
  branch?: string[];      // globs; `!glob` excludes
  event?: string[];       // push | tag | pull_request | cron | manual | api
  status?: WhenStatus[];  // success (default) | failure | always
  paths?: string[];       // globs over the files the push changed
  matrix?: Record<string, string[]>; // axis → values the job's combination must have
  /** Whether the job's combination matched `matrix`, decided when planning (a planned job's combination is fixed). */
  matrixMatches?: boolean;
}
export type WhenStatus = 'success' | 'failure' | 'always';

export type PullPolicy = 'always' | 'if-not-present' | 'never';
export type DockerMode = 'dood' | 'dind';

export interface PlannedStep {
  name: string;                 // `name:` or the first line of `run`
  run: string;                  // may still hold `${{ env.X }}` / `${{ hashFiles() }}` (agent expands)
  shell: string;                // e.g. `sh -e`, `bash -e`
  env: Record<string, string>;  // the step's own env (layered over the job's by the agent)
  timeoutMs: number | null;
  continueOnError: boolean;
  when: When | null;
  /** The folder the step runs in, relative to the workspace (the step's, else the job's); absent or null: the workspace. */
  workingDirectory?: string | null;
}

/** How the agent fills the workspace (`checkout:`); absent in plans stored before the key existed = the default. */
export interface PlannedCheckout {
  fresh: boolean;                       // true: a fresh clone, not the agent's reused workspace
  depth: number | null;                 // shallow: this many commits of history
  filter: 'blob:none' | null;           // partial: file contents fetched when checked out
}

export const DEFAULT_CHECKOUT: PlannedCheckout = { fresh: false, depth: null, filter: null };

export interface PlannedService {
  name: string;
  image: string;
  env: Record<string, string>;
  command: string[] | null;
  entrypoint: string[] | null;
  ports: number[];
}

export type CachePolicy = 'pull' | 'push' | 'pull-push';
export type ArtifactsWhen = 'on_success' | 'on_failure' | 'always';

export interface PlannedCache {
  key: string;                          // may still hold `${{ hashFiles() }}` / `${{ env.X }}` (agent expands)
  paths: string[];
  /** Key prefixes tried in order without an exact hit; absent in plans stored before. */
  restoreKeys?: string[];
  policy?: CachePolicy;                 // absent: pull-push
}

export interface PlannedArtifacts {
  /** Default: the job's name. Absent in plans stored before. */
  name?: string;
  paths: string[];
  expireMs: number | null;              // null: the server's default
  when?: ArtifactsWhen;                 // absent: on_success
}

export interface PlannedJob {
  name: string;                         // unique; `name:` (matrix values substituted), else `test (node=18)` after matrix expansion
  key: string;                          // the key under `jobs:` it came from
  matrix: Record<string, string> | null;
  needs: string[];                      // planned job names, not keys
  runsOn: string[];                     // labels an agent must all have
  image: string | null;                 // null: host process on the agent
  pull: PullPolicy;
  user: string | null;
  services: PlannedService[];
  docker: DockerMode | null;
  env: Record<string, string>;          // pipeline env layered with the job's
  secrets: string[];
  steps: PlannedStep[];
  cache: PlannedCache | null;
  artifacts: PlannedArtifacts | null;
  /** Needed jobs (planned names) whose artifacts are not unpacked (`{job, artifacts: false}`); absent in plans stored before. */
  noArtifactsFrom?: string[];
  retry: number;
  timeoutMs: number | null;
  allowFailure: boolean;
  when: When | null;
  environment: string | null;
  approval: boolean;
  /** Who may approve, from `environments.<environment>`; absent (plans stored before, or no such environment): any developer. */
  approvalPolicy?: ApprovalPolicy | null;
  concurrency: string | null;
  checkout?: PlannedCheckout;
}

export interface ApprovalPolicy {
  /** User names and `group:NAME` entries; null: anyone with the role. */
  approvers: string[] | null;
  /** The user who started the run may not approve it. */
  separateApprover: boolean;
  /** Approving needs the maintainer role. */
  protected: boolean;
}

export interface CronTrigger {
  schedule: string;
  branch: string | null;   // null: the repo's default branch
  timezone: string | null; // null: the server's time zone
}

export interface Triggers {
  push: { branches: string[] | null; paths: string[] | null } | null; // null: push does not start runs
  tags: string[] | null;                                               // null: tags do not start runs
  /** Target branch globs (null: all) and paths; null or absent (plans stored before the key existed): pull requests do not start runs. */
  pullRequest?: { branches: string[] | null; paths: string[] | null } | null;
  cron: CronTrigger[];
  manual: boolean;                                                     // also governs `api`
}

export type InputType = 'string' | 'number' | 'boolean' | 'choice';
export type InputValue = string | number | boolean;

/** A typed build parameter (`on.manual.inputs`), as a run form or `kiln trigger --input` asks for it. */
export interface PlannedInput {
  name: string;
  type: InputType;
  description: string | null;
  required: boolean;
  default: InputValue | null;  // null: none (a boolean's is false)
  options: string[];           // a choice's values; [] for the other types
}

export interface Plan {
  name: string | null;
  triggers: Triggers;
  /** Declared inputs in file order; absent in plans stored before the key existed = none. */
  inputs?: PlannedInput[];
  /** `notify:` entries; absent in plans stored before the key existed = none. */
  notify?: NotifyRule[];
  jobs: PlannedJob[];      // in topological order of `needs`
  stages: string[][];      // job names by depth in the DAG
}

/** A problem found in pipeline.yml, with where it is. Lines and columns count from 1. */
export interface Problem {
  path: string;            // e.g. `jobs.test.steps[0].run`, or '' for the document
  line: number;
  col: number;
  message: string;         // one line
}
