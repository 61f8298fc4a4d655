// `/runs/:id`: the run, its inputs, its jobs as a graph, each job's steps, and the buttons. A run re-run
// has attempts: `?attempt=K` shows its jobs as they ended in attempt K (read only, not live).
import { isFinal } from '../../../shared/status.js';
import type { Artifact, RunAttempt, RunDetail } from '../../store/index.js';
import { ArtifactList } from './artifacts.js';
import { RunGraph } from '../graph.js';
import { ActionButton, ago, duration, shortSha, StatusPill, type Viewer } from '../layout.js';
import type { Page } from './page.js';
import { RunError } from './problems.js';
import { WaitReason } from './wait-reason.js';

/** The run's attempts, and the one shown (the run's current attempt unless ?attempt= asked for an earlier one). */
export interface RunAttempts {
  list: readonly RunAttempt[];
  shown: number;
}

export function runPage(run: RunDetail, viewer: Viewer, nowMs: number, error: string | null, artifacts: readonly Artifact[] = [], attempts?: RunAttempts, waits: ReadonlyMap<number, string> = new Map()): Page {
  const repo = encodeURIComponent(run.repo);
  const current = attempts === undefined || attempts.shown === run.attempt;
  const shownAttempt = attempts?.list.find((a) => a.attempt === attempts.shown);
  const status = current || !shownAttempt ? run.status : shownAttempt.status;
  const mayRerun = current && isFinal(run.status);
  return {
    title: `${run.repo} #${run.number}${current ? '' : ` · attempt ${attempts!.shown}`}`,
    ...(current ? { live: 'run job step queue agent' } : {}),
    data: { run: String(run.id), jobs: run.jobs.map((j) => j.id).join(' '), ...(isFinal(run.status) || !current ? {} : { poll: '5000' }) },
    body: (
      <>
        <h1>
          <a href={`/repos/${repo}`}>{run.repo}</a> {`#${run.number}`} <StatusPill status={status} />
        </h1>
        {attempts && attempts.list.length > 1 ? <AttemptNav runId={run.id} attempts={attempts} latest={run.attempt} /> : null}
        <p class="muted">
          {run.pullRequest ? <>{`pull request #${run.pullRequest.number}: ${run.pullRequest.sourceBranch} → ${run.pullRequest.targetBranch}`}{run.pullRequest.fromFork ? ' (from a fork: no secrets)' : ''}</> : run.branch ?? run.tag ?? run.ref ?? ''} · <code>{shortSha(run.sha)}</code> {run.message?.split('\n')[0] ?? ''} · {run.event} ·{' '}
          {ago(run.createdAt, nowMs)}
          {run.startedAt ? ` · ${duration(run.startedAt, run.finishedAt, nowMs)}` : ''}
          {run.rerunOf !== null ? <> · re-run of <a href={`/runs/${run.rerunOf}`}>{`run ${run.rerunOf}`}</a></> : null}
        </p>
        {Object.keys(run.inputs).length > 0 ? (
          <dl class="inputs" data-inputs aria-label="inputs">
            {Object.entries(run.inputs).map(([name, value]) => <><dt><code>{name}</code></dt><dd data-input={name}>{String(value)}</dd></>)}
          </dl>
        ) : null}
        {error ? <p class="error-box">{error}</p> : null}
        {run.error ? <RunError error={run.error} repo={run.repo} sha={run.sha} /> : null}
        {run.cancelReason ? <p class="muted" data-cancel-reason>{`Cancelled: ${run.cancelReason}.`}</p> : null}
        <div class="actions">
          {current && !isFinal(run.status) ? <ActionButton viewer={viewer} repo={run.repo} action={`/runs/${run.id}/cancel`} label="Cancel" kind="danger" /> : null}
          {mayRerun ? <ActionButton viewer={viewer} repo={run.repo} action={`/runs/${run.id}/rerun`} label="Re-run all jobs" /> : null}
          {mayRerun && run.jobs.some((j) => j.status === 'failed' || j.status === 'cancelled' || j.status === 'error') ? (
            <ActionButton viewer={viewer} repo={run.repo} action={`/runs/${run.id}/rerun`} label="Re-run failed">
              <input type="hidden" name="failed_only" value="1" />
            </ActionButton>
          ) : null}
        </div>
        {run.jobs.length ? <RunGraph run={run} nowMs={nowMs} /> : null}
        <h2>Jobs</h2>
        <table>
          <thead><tr><th>job</th><th>status</th><th>agent</th><th>duration</th><th>steps</th><th></th></tr></thead>
          <tbody>
            {run.jobs.map((job) => (
              <tr data-job={job.name}>
                <td>
                  <a href={jobHref(run.id, job, current)}>{job.name}</a>
                  {job.plan.environment ? <div class="muted">{`→ ${job.plan.environment}`}</div> : null}
                  {job.needs.length ? <div class="muted">{`needs ${job.needs.join(', ')}`}</div> : null}
                </td>
                <td>
                  <StatusPill status={job.status} />
                  {job.reason ? <div class="muted">{job.reason}</div> : null}
                  <WaitReason jobId={job.id} reason={waits.get(job.id)} besides={job.reason} />
                  {attempts && job.runAttempt < attempts.shown ? <div class="muted" data-from-attempt={String(job.runAttempt)}>{`from attempt ${job.runAttempt}`}</div> : null}
                </td>
                <td>{job.agent ?? ''}</td>
                <td>{duration(job.startedAt, job.finishedAt, nowMs)}</td>
                <td>
                  <ul class="steps">
                    {job.steps.map((step) => (
                      <li>
                        <StatusPill status={step.status} /> {step.name}{' '}
                        <span class="muted">{duration(step.startedAt, step.finishedAt, nowMs)}</span>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  {current && job.status === 'blocked' ? <ActionButton viewer={viewer} repo={run.repo} action={`/jobs/${job.id}/approve`} label="Approve" kind="primary" /> : null}
                  {mayRerun ? <ActionButton viewer={viewer} repo={run.repo} action={`/jobs/${job.id}/retry`} label="Re-run" /> : null}
                  {' '}<a href={jobHref(run.id, job, current)}>log</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <ArtifactList artifacts={artifacts} byJob />
      </>
    ),
  };
}

/** A job's page; for an earlier attempt of the run, pinned to the job's attempt that ended it. */
function jobHref(runId: number, job: { id: number; attempt: number }, current: boolean): string {
  return `/runs/${runId}/jobs/${job.id}${current || job.attempt === 0 ? '' : `?attempt=${job.attempt}`}`;
}

function AttemptNav({ runId, attempts, latest }: { runId: number; attempts: RunAttempts; latest: number }) {
  return (
    <nav class="attempts" aria-label="attempts">
      attempts:{' '}
      {attempts.list.map((a, i) => {
        const label = <>{`${a.attempt} `}<StatusPill status={a.status} /></>;
        const title = `attempt ${a.attempt}: ${a.jobs.length} job${a.jobs.length === 1 ? '' : 's'} (${a.jobs.join(', ')})`;
        const item = a.attempt === attempts.shown
          ? <strong data-attempt={String(a.attempt)} title={title}>{label}</strong>
          : <a data-attempt={String(a.attempt)} title={title} href={a.attempt === latest ? `/runs/${runId}` : `/runs/${runId}?attempt=${a.attempt}`}>{label}</a>;
        return <>{i > 0 ? ' · ' : ''}{item}</>;
      })}
      {attempts.shown !== latest ? <span class="muted" data-earlier-attempt>{` · an earlier attempt: the jobs as they ended then`}</span> : null}
    </nav>
  );
}
