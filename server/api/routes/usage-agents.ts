// `GET /api/usage/agents?days=N` (server admins): the cost view, per UTC day and pool, agent-minutes
// busy and idle, cold starts, queue wait by label set, and what a fixed pool of `max` would have used.
import { Hono } from 'hono';
import type { ApiOptions } from '../http.js';
import { parseUsageDays, poolBounds, readAgentUsage } from '../../usage/report.js';

export function createUsageAgentRoutes({ store, service, now = Date.now, access: { guard } }: ApiOptions): Hono {
  const app = new Hono();
  app.get('/api/usage/agents', guard('admin'), (c) => {
    const days = parseUsageDays(c.req.query('days'));
    return c.json(readAgentUsage(store, poolBounds(service.pools()), now(), days));
  });
  return app;
}
