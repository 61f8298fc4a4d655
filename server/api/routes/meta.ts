// `GET /healthz` and `GET /schema/pipeline.json`: the routes outside /api.
import { Hono } from 'hono';
import { pipelineJsonSchema } from '../../../shared/pipeline/index.js';
import type { ApiOptions } from '../http.js';

export function createMetaRoutes({ store }: ApiOptions): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => (store.ping() ? c.json({ status: 'ok' }) : c.json({ status: 'unavailable', error: 'the database does not answer' }, 503)));
  app.get('/schema/pipeline.json', (c) => c.json(pipelineJsonSchema()));
  return app;
}
