// `GET /api/audit`: the audit log, newest first, filtered and paged by an id cursor (`next`).
// Server admin only. Read-only on purpose: no route edits or deletes audit rows.
import { Hono } from 'hono';
import { auditFilter } from '../../audit/query.js';
import type { AuditStore } from '../../audit/store.js';
import type { ApiOptions } from '../http.js';

export function createAuditRoutes({ access, audit, now = Date.now }: Pick<ApiOptions, 'access'> & { audit: AuditStore; now?: () => number }): Hono {
  const app = new Hono();
  app.get('/api/audit', access.guard('admin'), (c) => {
    const { rows, next } = audit.list(auditFilter(c.req.query(), now()));
    return c.json({ entries: rows.map((row) => ({ ...row, at: new Date(row.at).toISOString() })), next });
  });
  return app;
}
