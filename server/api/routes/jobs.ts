// `/api/jobs/:id`: one job with its steps, approving it, and its log (as text, or as numbered lines).
import { Hono } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import { idParam, type ApiOptions } from '../http.js';
import { repoFinders } from '../../access/index.js';
import { linesHandler } from '../log-lines.js';
import { logStream } from '../log-stream.js';
import { jobView } from '../views.js';

export function createJobRoutes({ store, bus, service, access }: ApiOptions): Hono {
  const app = new Hono();
  const { guard } = access;
  const of = repoFinders(store);
  /** Who approved the job, and when (null: not approved, or no approval asked). */
  const approval = (jobId: number) => {
    const a = store.jobs.approvalOf(jobId);
    return { approved_by: a?.by ?? null, approved_at: a ? new Date(a.atMs).toISOString() : null };
  };

  app.get('/api/jobs/:id', guard('read', of.job), (c) => {
    const job = store.jobs.getJobWithSteps(idParam(c));
    if (!job) throw new KilnError('not_found', `no job ${c.req.param('id')}`);
    return c.json({ ...jobView(job), ...approval(job.id) });
  });
  // A developer may ask; who may approve this job (its environment's approvers, protection) the service decides.
  app.post('/api/jobs/:id/approve', guard('run', of.job), (c) => {
    const job = service.approveJob(idParam(c), access.principalOf(c));
    return c.json({ ...jobView(job), ...approval(job.id) });
  });
  app.get('/api/jobs/:id/log', guard('read', of.job), (c) => {
    const jobId = idParam(c);
    const job = store.jobs.getJob(jobId);
    if (!job) throw new KilnError('not_found', `no job ${jobId}`);
    const removed = store.retention.removedLog(jobId);
    if (removed) {
      return c.json({ error: `this log was removed by the retention policy (${removed.policy}) on ${new Date(removed.removedAt).toISOString()}` }, 410);
    }
    const attempt = c.req.query('attempt') ? Number(c.req.query('attempt')) : undefined;
    const follow = ['1', 'true'].includes(c.req.query('follow') ?? '');
    return new Response(logStream({ store, bus, jobId, follow, ...(attempt ? { attempt } : {}) }), {
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
    });
  });
  app.get('/api/jobs/:id/lines', guard('read', of.job), linesHandler(store, (c) => idParam(c)));
  return app;
}
