// `/api/jobs/:id`: one job with its steps, approving it, and its log (as text, or as numbered lines).
import { Hono } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import { idParam, requireAdmin, type ApiOptions } from '../http.js';
import { linesHandler } from '../log-lines.js';
import { logStream } from '../log-stream.js';
import { jobView } from '../views.js';

export function createJobRoutes({ store, bus, service, tokenKind }: ApiOptions): Hono {
  const app = new Hono();
  const admin = requireAdmin(tokenKind);

  app.get('/api/jobs/:id', (c) => {
    const job = store.jobs.getJobWithSteps(idParam(c));
    if (!job) throw new KilnError('not_found', `no job ${c.req.param('id')}`);
    return c.json(jobView(job));
  });
  app.post('/api/jobs/:id/approve', admin, (c) => c.json(jobView(service.approveJob(idParam(c)))));
  app.get('/api/jobs/:id/log', (c) => {
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
  app.get('/api/jobs/:id/lines', linesHandler(store, (c) => idParam(c)));
  return app;
}
