// The API's JSON shapes (SPEC §3): store types in, the fixed snake_case names out.
import type { Agent, Job, JobWithSteps, NotificationView, Repo, Run, RunAttempt, RunDetail, SecretInfo, Step } from '../store/index.js';

export function runView(run: Run) {
  return {
    id: run.id, repo: run.repo, number: run.number, status: run.status, event: run.event, ref: run.ref,
    branch: run.branch, tag: run.tag, sha: run.sha, message: run.message, error: run.error, inputs: run.inputs, rerun_of: run.rerunOf,
    attempt: run.attempt, cancel_reason: run.cancelReason, triggered_by: run.triggeredBy ?? null,
    created_at: run.createdAt, started_at: run.startedAt, finished_at: run.finishedAt,
    pull_request: run.pullRequest && {
      number: run.pullRequest.number, source_branch: run.pullRequest.sourceBranch,
      target_branch: run.pullRequest.targetBranch, fork: run.pullRequest.fromFork,
    },
  };
}

/** `attempts`: the run's attempts (store.attempts.listRunAttempts), shown with the run. */
export function runDetailView(run: RunDetail, attempts: readonly RunAttempt[]) {
  return { ...runView(run), attempts: attempts.map(runAttemptView), jobs: run.jobs.map(jobView) };
}

export function runAttemptView(a: RunAttempt) {
  return { attempt: a.attempt, status: a.status, jobs: a.jobs, created_at: a.createdAt, started_at: a.startedAt, finished_at: a.finishedAt };
}

export function jobView(job: Job | JobWithSteps) {
  return {
    id: job.id, run_id: job.runId, name: job.name, status: job.status, needs: job.needs, agent: job.agent,
    attempt: job.attempt, run_attempt: job.runAttempt, exit_code: job.exitCode, reason: job.reason, runs_on: job.runsOn,
    allow_failure: job.allowFailure, approval: job.approval, environment: job.plan.environment,
    image: job.plan.image, queued_at: job.queuedAt, started_at: job.startedAt, finished_at: job.finishedAt,
    ...('steps' in job ? { steps: job.steps.map(stepView) } : {}),
  };
}

export function stepView(step: Step) {
  return { name: step.name, status: step.status, exit_code: step.exitCode, started_at: step.startedAt, finished_at: step.finishedAt };
}

export function agentView(agent: Agent) {
  return {
    id: agent.id, name: agent.name, labels: agent.labels, pool: agent.pool, status: agent.status, jobs: agent.jobs,
    capacity: agent.capacity, version: agent.version, connected_at: agent.connectedAt, last_seen_at: agent.lastSeenAt,
  };
}

/** A repo's settings as the API shows them: which secret ones are set, never their values. */
export function repoSettingsView(repo: Repo) {
  if (repo.url === null) return { cancel_superseded: repo.cancelSuperseded };
  return {
    cancel_superseded: repo.cancelSuperseded,
    poll_ms: repo.pollMs,
    webhook_secret: repo.sealed.webhookSecret,
    webhook: { insecure: repo.webhookInsecure },
    credentials: repo.sealed.credentials,
    forge: repo.forge ? { kind: repo.forge.kind, api_url: repo.forge.apiUrl, token: repo.sealed.forgeToken } : null,
    sync: { synced_at: repo.sync.syncedAt, error: repo.sync.error, error_at: repo.sync.errorAt },
  };
}

export function repoView(repo: Repo, lastRuns: Run[]) {
  return {
    name: repo.name, path: repo.path, url: repo.url, default_branch: repo.defaultBranch, created_at: repo.createdAt,
    ...repoSettingsView(repo),
    branches: Object.fromEntries(lastRuns.filter((r) => r.branch !== null).map((r) => [r.branch!, runView(r)])),
    last_runs: lastRuns.map(runView),
  };
}

/** A secret as the API shows it: where it may be used, never its value (null: any). */
export function secretView(secret: SecretInfo) {
  return {
    name: secret.name, level: secret.level, branches: secret.branches, events: secret.events,
    environments: secret.environments, updated_at: secret.updatedAt,
  };
}

/** A notification delivery: `status` pending (not tried yet), retrying (failed, tried again at next_attempt_at) or sent. */
export function notificationView(n: NotificationView) {
  return {
    id: n.id, run_id: n.runId, event: n.event, target: n.target, status: n.status, attempts: n.attempts,
    last_error: n.lastError, created_at: n.createdAt, sent_at: n.sentAt, next_attempt_at: n.nextAttemptAt,
  };
}
