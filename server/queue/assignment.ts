// What an agent receives for a job: the plan, the commit, and the environment the SPEC promises.
import type { JobAssignment } from '../../shared/protocol/messages.js';
import type { Claim, Job, Run, Store } from '../store/index.js';

export interface AssignmentOptions {
  serverUrl: string;
  logCapBytes: number;
}

export function buildAssignment(store: Store, claim: Claim, options: AssignmentOptions): JobAssignment {
  const job = claim.job;
  const run = store.runs.getRunSummary(job.runId)!;
  const secrets = jobSecrets(store, run, job);
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
    ...secrets,
  };
  return {
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
  };
}

/** The secrets a job of `run` gets, by name. */
export function jobSecrets(store: Store, run: Run, job: Job): Record<string, string> {
  // Why a fork's pull request gets none: its code is not the repo's, and anyone can open one.
  return run.pullRequest?.fromFork ? {} : store.secrets.getSecretValues(run.repoId, job.plan.secrets);
}

/** The secret values a job gets (to mask its log), read from the store. */
export function jobSecretValues(store: Store, jobId: number): string[] {
  const job = store.jobs.getJob(jobId);
  const run = job ? store.runs.getRunSummary(job.runId) : null;
  return job && run ? Object.values(jobSecrets(store, run, job)).filter((v) => v.length > 0) : [];
}
