// What an agent receives for a job: the plan, the commit, the environment the SPEC promises,
// the secrets it names that their scopes let it have (secret-scopes.ts), and what it moves over
// HTTP (its transfer token, the size limits, the artifacts of the jobs it needs).
import type { JobAssignment, JobFiles } from '../../shared/protocol/messages.js';
import type { Claim, Job, Run, Store } from '../store/index.js';
import { inputEnv } from '../../shared/pipeline/inputs.js';
import { refusalOf } from './secret-scopes.js';

export interface AssignmentOptions {
  serverUrl: string;
  logCapBytes: number;
  /** Absent: the assignment carries no `files` (artifacts and caches are off). */
  files?: AssignmentFiles | undefined;
  /** ms since epoch, for which needed artifacts have expired (default Date.now()). */
  now?: number;
}

/** What the queue needs to fill `assignment.files`, without knowing how tokens are made. */
export interface AssignmentFiles {
  /** The job's transfer token while it holds lease `leaseToken` (server/files/transfer-token.ts). */
  issueFilesToken(jobId: number, leaseToken: string): string;
  artifactMaxBytes: number;
  cacheMaxBytes: number;
}

/** The assignment, or why the job cannot start (a secret it names is refused to it by a scope). */
export type AssignmentResult = { ok: true; assignment: JobAssignment } | { ok: false; reason: string };

export function buildAssignment(store: Store, claim: Claim, options: AssignmentOptions): AssignmentResult {
  const job = claim.job;
  const run = store.runs.getRunSummary(job.runId)!;
  const granted = jobSecrets(store, run, job);
  if (!granted.ok) return granted;
  const secrets = granted.secrets;
  const pr = run.pullRequest;
  const env: Record<string, string> = {
    ...run.env,
    CI: 'true',
    KILN: 'true',
    KILN_REPO: run.repo,
    KILN_RUN_NUMBER: String(run.number),
    KILN_RUN_ID: String(run.id),
    KILN_JOB: job.name,
    KILN_JOB_ID: String(job.id),
    KILN_EVENT: run.event,
    KILN_BRANCH: run.branch ?? '',
    KILN_TAG: run.tag ?? '',
    KILN_COMMIT_SHA: run.sha,
    KILN_PR_NUMBER: pr ? String(pr.number) : '',
    KILN_PR_SOURCE_BRANCH: pr?.sourceBranch ?? '',
    KILN_PR_TARGET_BRANCH: pr?.targetBranch ?? '',
    KILN_SERVER_URL: options.serverUrl,
    ...inputEnv(run.inputs),
    ...secrets,
  };
  return { ok: true, assignment: {
    jobId: job.id,
    runId: run.id,
    attempt: job.attempt,
    token: claim.token,
    repo: run.repo,
    gitUrl: `${options.serverUrl}/git/${encodeURIComponent(run.repo)}.git`,
    sha: run.sha,
    ref: run.ref,
    job: job.plan,
    env,
    secrets: Object.values(secrets).filter((v) => v.length > 0),
    logCapBytes: options.logCapBytes,
    ...(options.files ? { files: jobFiles(store, claim, options.files, options.now ?? Date.now()) } : {}),
  } };
}

/** The job's token and limits, and the artifacts of the jobs it needs (one query, only when it needs some). */
function jobFiles(store: Store, claim: Claim, files: AssignmentFiles, now: number): JobFiles {
  const { job } = claim;
  const skipped = new Set(job.plan.noArtifactsFrom ?? []);
  const from = job.plan.needs.filter((name) => !skipped.has(name));
  const artifacts = from.length === 0 ? [] : store.artifacts.listNeededArtifacts(job.runId, from, now)
    .map((a) => ({ id: a.id, job: a.job, name: a.name, size: a.size, sha256: a.sha256 }));
  return {
    token: files.issueFilesToken(job.id, claim.token),
    artifactMaxBytes: files.artifactMaxBytes,
    cacheMaxBytes: files.cacheMaxBytes,
    artifacts,
  };
}

/** The secrets a job of `run` gets, by name; or why it cannot start (a scope refuses one it names). */
export function jobSecrets(store: Store, run: Run, job: Job): { ok: true; secrets: Record<string, string> } | { ok: false; reason: string } {
  // Why a fork's pull request gets none: its code is not the repo's, and anyone can open one.
  // A named secret that does not exist is left unset, as before scopes.
  const named = run.pullRequest?.fromFork ? [] : store.secrets.resolveSecrets(run.repoId, job.plan.secrets);
  const use = { event: run.event, branch: run.branch, tag: run.tag, environment: job.plan.environment };
  for (const secret of named) {
    const reason = refusalOf(secret.name, secret, use);
    if (reason !== null) return { ok: false, reason };
  }
  return { ok: true, secrets: Object.fromEntries(named.map((s) => [s.name, s.open()])) };
}

/** The secret values a job gets (to mask its log), read from the store. */
export function jobSecretValues(store: Store, jobId: number): string[] {
  const job = store.jobs.getJob(jobId);
  const run = job ? store.runs.getRunSummary(job.runId) : null;
  const granted = job && run ? jobSecrets(store, run, job) : null;
  return granted?.ok ? Object.values(granted.secrets).filter((v) => v.length > 0) : [];
}
