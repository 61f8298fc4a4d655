// `/api/runs/:id`: one run with its jobs, cancelling it, and re-running it.
import { Hono } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import { idParam, readJson, requireAdmin, type ApiOptions } from '../http.js';
import { jobView, runDetailView } from '../views.js';

export function createRunRoutes({ store, service, tokenKind }: ApiOptions): Hono {
  const app = new Hono();
  const admin = requireAdmin(tokenKind);

  app.get('/api/runs/:id', (c) => {
    const run = store.runs.getRun(idParam(c));
    if (!run) throw new KilnError('not_found', `no run ${c.req.param('id')}`);
    return c.json({ ...runDetailView(run), jobs: run.jobs.map((j) => jobView(j)) });
  });
  app.post('/api/runs/:id/cancel', admin, (c) => c.json(runDetailView(service.cancelRun(idParam(c)))));
  app.post('/api/runs/:id/rerun', admin, async (c) => {
    const body = await readJson(c, 'rerun');
    return c.json(runDetailView(await service.rerun(idParam(c), body.failed_only ?? false)), 201);
  });
  return app;
}
