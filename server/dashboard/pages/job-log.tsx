// `/runs/:id/jobs/:jobId`: one job's header (status, steps and their durations) and its live
// log. The log itself is drawn in the browser by /assets/log-viewer.js (virtualized, follows
// /api/events); this page gives it a container, and `#L120` in the URL scrolls to line 120.
// The page sets no `live` kinds: a swap of <main> would throw the viewer away; the viewer
// updates the status and step pills itself from `job` and `step` events.
import { shownAttempt, type Artifact, type JobWithSteps, type Run } from '../../store/index.js';
import { ArtifactList } from './artifacts.js';
import { ActionButton, duration, StatusPill, type Viewer } from '../layout.js';
import type { Page } from './page.js';

export function jobLogPage(job: JobWithSteps, run: Run, viewer: Viewer, nowMs: number, artifacts: readonly Artifact[] = []): Page {
  const attempt = shownAttempt(job); // the attempt the log viewer shows (the lines API picks the same)
  return {
    title: `${job.name} · ${run.repo} #${run.number}`,
    body: (
      <>
        <link rel="stylesheet" href="/assets/log-viewer.css" />
        <div class="job-head">
          <h1>
            <a href={`/repos/${encodeURIComponent(run.repo)}`}>{run.repo}</a> <a href={`/runs/${run.id}`}>{`#${run.number}`}</a> · {job.name}{' '}
            <span data-job-status={String(job.id)} class={`status ${job.status}`}>{job.status}</span>
          </h1>
          <span class="muted">
            {job.agent ? `on ${job.agent}` : ''}
            {attempt > 1 ? ` · attempt ${attempt}` : ''}
            {job.startedAt ? ` · ${duration(job.startedAt, job.finishedAt, nowMs)}` : ''}
            {job.exitCode !== null ? ` · exit ${job.exitCode}` : ''}
          </span>
          {job.status === 'blocked' ? <ActionButton viewer={viewer} action={`/jobs/${job.id}/approve`} label="Approve" kind="primary" /> : null}
        </div>
        {job.reason ? <p class="muted">{job.reason}</p> : null}
        <ol class="job-steps">
          {job.steps.map((step) => (
            <li data-step-name={step.name} data-step-idx={String(step.idx)}>
              <StatusPill status={step.status} /> {step.name}{' '}
              <span class="muted">{duration(step.startedAt, step.finishedAt, nowMs)}</span>
            </li>
          ))}
        </ol>
        <ArtifactList artifacts={artifacts} byJob={false} />
        <section class="log-viewer" data-log-viewer data-job={String(job.id)} data-run={String(run.id)}>
          <div class="log-bar">
            <label><input type="checkbox" class="log-follow" checked /> follow</label>
            <button type="button" class="log-fold-all">fold / unfold steps</button>
            <span class="log-info">loading…</span>
            <form class="log-search" role="search">
              <input type="search" name="q" placeholder="find in log" aria-label="find in log" />
              <button type="submit">find</button>
              <button type="button" class="log-prev" aria-label="previous match">↑</button>
              <button type="button" class="log-next" aria-label="next match">↓</button>
              <span class="log-search-info"></span>
            </form>
          </div>
          <div class="log-scroll" tabindex={0}>
            <div class="log-spacer"></div>
            <div class="log-rows"></div>
          </div>
          <noscript>
            <p><a href={`/api/jobs/${job.id}/log`}>the log as text</a></p>
          </noscript>
        </section>
        <p class="muted">
          <a href={`/api/jobs/${job.id}/log`}>raw log</a>
        </p>
        <script type="module" src="/assets/log-viewer.js"></script>
      </>
    ),
  };
}
