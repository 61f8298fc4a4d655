// `/api/usage` (disk use by kind and repo; server admins) and `/api/retention/sweep` (server admin:
// one retention sweep now, answering what it removed).
import { Hono } from 'hono';
import type { ApiOptions } from '../http.js';

export function createUsageRoutes({ retention, usage, access: { guard } }: ApiOptions): Hono {
  const app = new Hono();
  if (usage) app.get('/api/usage', guard('admin'), (c) => c.json(usage()));
  if (retention) app.post('/api/retention/sweep', guard('admin'), async (c) => c.json(await retention.sweep()));
  return app;
}
