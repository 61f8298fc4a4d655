// `/api/runs/:id`: one run with its jobs and attempts, cancelling it, and re-running it (or one of
// its jobs) as a new attempt.
import { Hono } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import { idParam, readJson, type ApiOptions } from '../http.js';
import { repoFinders } from '../../access/index.js';
import { jobsAsOfAttempt, type RunDetail } from '../../store/index.js';
import { jobView, runDetailView } from '../views.js';

export function createRunRoutes({ store, service, access }: ApiOptions): Hono {
  const app = new Hono();
  const { guard } = access;
  const of = repoFinders(store);

  const detail = (run: RunDetail) => runDetailView(run, store.attempts.listRunAttempts(run.id));

  // `?attempt=K`: the jobs as they stood at the end of attempt K (a job re-run later shows its outcome then).
  app.get('/api/runs/:id', guard('read', of.run), (c) => {
    const run = store.runs.getRun(idParam(c));
    if (!run) throw new KilnError('not_found', `no run ${c.req.param('id')}`);
    const asked = c.req.query('attempt');
    if (asked === undefined) return c.json(detail(run));
    const attempt = Number(asked);
    if (!Number.isSafeInteger(attempt) || attempt < 1 || attempt > run.attempt) {
      throw new KilnError('bad_input', `attempt must be 1 to ${run.attempt} (the run's attempts)`);
    }
    const jobs = jobsAsOfAttempt(run.jobs, store.attempts.listJobAttempts(run.id), attempt);
    return c.json({ ...detail(run), jobs: jobs.map(jobView) });
  });
  app.post('/api/runs/:id/cancel', guard('run', of.run), (c) => c.json(detail(service.cancelRun(idParam(c)))));
  // A new attempt of the same run (not a new run): every job, or the failed ones, with what needs them.
  app.post('/api/runs/:id/rerun', guard('run', of.run), async (c) => {
    const body = await readJson(c, 'rerun');
    return c.json(detail(service.rerun(idParam(c), body.failed_only ?? false)));
  });
  // A new attempt of the job's run with this job and the jobs that need it.
  app.post('/api/jobs/:id/retry', guard('run', of.job), (c) => c.json(detail(service.retryJob(idParam(c)))));
  return app;
}
