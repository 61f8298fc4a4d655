// `/runs/:id`: the run, its jobs as a graph, each job's steps, and the buttons.
import { isFinal } from '../../../shared/status.js';
import type { Artifact, RunDetail } from '../../store/index.js';
import { ArtifactList } from './artifacts.js';
import { RunGraph } from '../graph.js';
import { ActionButton, ago, duration, shortSha, StatusPill, type Viewer } from '../layout.js';
import type { Page } from './page.js';

export function runPage(run: RunDetail, viewer: Viewer, nowMs: number, error: string | null, artifacts: readonly Artifact[] = []): Page {
  const repo = encodeURIComponent(run.repo);
  return {
    title: `${run.repo} #${run.number}`,
    live: 'run job step',
    data: { run: String(run.id), jobs: run.jobs.map((j) => j.id).join(' '), ...(isFinal(run.status) ? {} : { poll: '5000' }) },
    body: (
      <>
        <h1>
          <a href={`/repos/${repo}`}>{run.repo}</a> {`#${run.number}`} <StatusPill status={run.status} />
        </h1>
        <p class="muted">
          {run.pullRequest ? <>{`pull request #${run.pullRequest.number}: ${run.pullRequest.sourceBranch} → ${run.pullRequest.targetBranch}`}{run.pullRequest.fromFork ? ' (from a fork: no secrets)' : ''}</> : run.branch ?? run.tag ?? run.ref ?? ''} · <code>{shortSha(run.sha)}</code> {run.message?.split('\n')[0] ?? ''} · {run.event} ·{' '}
          {ago(run.createdAt, nowMs)}
          {run.startedAt ? ` · ${duration(run.startedAt, run.finishedAt, nowMs)}` : ''}
          {run.rerunOf !== null ? <> · re-run of <a href={`/runs/${run.rerunOf}`}>{`run ${run.rerunOf}`}</a></> : null}
        </p>
        {error ? <p class="error-box">{error}</p> : null}
        {run.error ? <p class="error-box">{run.error}</p> : null}
        {run.cancelReason ? <p class="muted" data-cancel-reason>{`Cancelled: ${run.cancelReason}.`}</p> : null}
        <div class="actions">
          {!isFinal(run.status) ? <ActionButton viewer={viewer} action={`/runs/${run.id}/cancel`} label="Cancel" kind="danger" /> : null}
          {isFinal(run.status) ? <ActionButton viewer={viewer} action={`/runs/${run.id}/rerun`} label="Re-run" /> : null}
          {isFinal(run.status) && run.jobs.some((j) => j.status === 'failed' || j.status === 'cancelled' || j.status === 'error') ? (
            <ActionButton viewer={viewer} action={`/runs/${run.id}/rerun`} label="Re-run failed">
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
                  <a href={`/runs/${run.id}/jobs/${job.id}`}>{job.name}</a>
                  {job.plan.environment ? <div class="muted">{`→ ${job.plan.environment}`}</div> : null}
                  {job.needs.length ? <div class="muted">{`needs ${job.needs.join(', ')}`}</div> : null}
                </td>
                <td>
                  <StatusPill status={job.status} />
                  {job.reason ? <div class="muted">{job.reason}</div> : null}
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
                  {job.status === 'blocked' ? <ActionButton viewer={viewer} action={`/jobs/${job.id}/approve`} label="Approve" kind="primary" /> : null}
                  <a href={`/runs/${run.id}/jobs/${job.id}`}>log</a>
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
