// `/api/usage` (disk use by kind and repo; readers) and `/api/retention/sweep` (server admin:
// one retention sweep now, answering what it removed).
import { Hono } from 'hono';
import { requireAdmin, type ApiOptions } from '../http.js';

export function createUsageRoutes({ retention, usage, tokenKind }: ApiOptions): Hono {
  const app = new Hono();
  if (usage) app.get('/api/usage', (c) => c.json(usage()));
  if (retention) app.post('/api/retention/sweep', requireAdmin(tokenKind), async (c) => c.json(await retention.sweep()));
  return app;
}
