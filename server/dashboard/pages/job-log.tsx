// `/runs/:id/jobs/:jobId`: one job's header (status, steps and their durations) and its live
// log. The log itself is drawn in the browser by /assets/log-viewer.js (virtualized, follows
// /api/events); this page gives it a container, and `#L120` in the URL scrolls to line 120.
// The page sets no `live` kinds: a swap of <main> would throw the viewer away; the viewer
// updates the status and step pills itself from `job` and `step` events. A job that waits says
// why above the log (pages/wait-reason.tsx's line; /assets/wait-reason.js keeps it live). A log
// the retention sweeper removed is said so (`logRemoved`) instead of the viewer.
import { isFinal } from '../../../shared/status.js';
import { shownAttempt, type Artifact, type JobAttempt, type JobWithSteps, type Run } from '../../store/index.js';
import { ArtifactList } from './artifacts.js';
import { ActionButton, duration, StatusPill, type Viewer } from '../layout.js';
import type { Page } from './page.js';

/** `asked`: the attempt in ?attempt= (its log, pinned); `kept`: how the job ended in the run's earlier attempts. */
export interface JobAttempts {
  asked: number | null;
  kept: readonly JobAttempt[];
}

export function jobLogPage(job: JobWithSteps, run: Run, viewer: Viewer, nowMs: number, artifacts: readonly Artifact[] = [], attempts: JobAttempts = { asked: null, kept: [] }, waitReason: string | null = null, logRemoved: string | null = null): Page {
  const latest = shownAttempt(job);
  const pinned = attempts.asked !== null && attempts.asked >= 1 && attempts.asked < latest ? attempts.asked : null;
  const attempt = pinned ?? latest; // the attempt the log viewer shows (the lines API picks the same)
  // An earlier attempt shows how it ended when a re-run kept that (a retry inside one run attempt keeps only its log).
  const then = pinned === null ? null : attempts.kept.find((k) => k.attempt === pinned) ?? null;
  const shown = then ? { ...job, ...then, steps: then.steps } : job;
  const waits = pinned === null && !isFinal(job.status); // the live wait line (empty once the job runs)
  const ended = (k: number) => attempts.kept.find((a) => a.attempt === k)?.status ?? (k === job.attempt ? job.status : null);
  return {
    title: `${job.name} · ${run.repo} #${run.number}`,
    body: (
      <>
        <link rel="stylesheet" href="/assets/log-viewer.css" />
        <div class="job-head">
          <h1>
            <a href={`/repos/${encodeURIComponent(run.repo)}`}>{run.repo}</a> <a href={`/runs/${run.id}`}>{`#${run.number}`}</a> · {job.name}{' '}
            {pinned !== null && !then ? null : <span data-job-status={String(job.id)} class={`status ${shown.status}`}>{shown.status}</span>}
          </h1>
          <span class="muted">
            {shown.agent ? `on ${shown.agent}` : ''}
            {attempt > 1 ? ` · attempt ${attempt}` : ''}
            {shown.startedAt ? ` · ${duration(shown.startedAt, shown.finishedAt, nowMs)}` : ''}
            {shown.exitCode !== null ? ` · exit ${shown.exitCode}` : ''}
          </span>
          {job.status === 'blocked' ? <ActionButton viewer={viewer} repo={run.repo} action={`/jobs/${job.id}/approve`} label="Approve" kind="primary" /> : null}
          {isFinal(job.status) && isFinal(run.status) ? <ActionButton viewer={viewer} repo={run.repo} action={`/jobs/${job.id}/retry`} label="Re-run job" /> : null}
        </div>
        {latest > 1 ? (
          <nav class="attempts" aria-label="attempts">
            attempts:{' '}
            {Array.from({ length: latest }, (_, i) => i + 1).map((k) => {
              const status = ended(k);
              const label = `${k}${status ? ` ${status}` : ''}`;
              return k === attempt ? <strong data-attempt={String(k)}>{label}</strong> : <a data-attempt={String(k)} href={k === latest ? `/runs/${run.id}/jobs/${job.id}` : `?attempt=${k}`}>{label}</a>;
            })}
          </nav>
        ) : null}
        {pinned !== null ? <p class="muted" data-pinned-attempt>{`An earlier attempt (${pinned} of ${latest}): its log as it was.`}</p> : null}
        {shown.reason && !(waits && waitReason) ? <p class="muted">{shown.reason}</p> : null}
        <ol class="job-steps">
          {(pinned !== null && !then ? [] : shown.steps).map((step) => (
            <li data-step-name={step.name} data-step-idx={String(step.idx)}>
              <StatusPill status={step.status} /> {step.name}{' '}
              <span class="muted">{duration(step.startedAt, step.finishedAt, nowMs)}</span>
            </li>
          ))}
        </ol>
        <ArtifactList artifacts={artifacts} byJob={false} />
        {waits ? (
          <p class="wait-reason muted" data-wait-for={`${run.id}/${job.id}`} hidden={!waitReason}>{waitReason ?? ''}</p>
        ) : null}
        {logRemoved !== null ? <p class="log-removed">{logRemoved}</p> : null}
        {logRemoved !== null ? null : <>
        <section class="log-viewer" data-log-viewer data-job={String(job.id)} data-run={String(run.id)} {...(pinned !== null ? { 'data-attempt': String(pinned) } : {})}>
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
          <a href={`/api/jobs/${job.id}/log${pinned !== null ? `?attempt=${pinned}` : ''}`}>raw log</a>
        </p>
        <script type="module" src="/assets/log-viewer.js"></script>
        </>}
        {waits ? <script type="module" src="/assets/wait-reason.js"></script> : null}
      </>
    ),
  };
}
