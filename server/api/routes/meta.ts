// `GET /healthz` and `GET /schema/pipeline.json`: the routes outside /api.
import { Hono } from 'hono';
import type { ApiOptions } from '../http.js';

export function createMetaRoutes({ store, access: { guard } }: ApiOptions): Hono {
  const app = new Hono();
  app.get('/healthz', guard('open'), (c) => (store.ping() ? c.json({ status: 'ok' }) : c.json({ status: 'unavailable', error: 'the database does not answer' }, 503)));
  // Loaded on first use: the pipeline model is not needed to start (see triggers/plan-cache.ts).
  app.get('/schema/pipeline.json', guard('open'), async (c) => c.json((await import('../../../shared/pipeline/index.js')).pipelineJsonSchema()));
  return app;
}
