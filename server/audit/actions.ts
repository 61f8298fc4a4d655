// The ONE table from a changing route (method + hono's matched pattern) to a stable audit
// action name and its target. A changing route missing here is recorded as `METHOD /pattern`
// (nothing escapes); test/server/audit/ checks every changing route of the app has an entry.
import type { Context } from 'hono';

export interface AuditAction {
  action: string;
  target(c: Context): string | Promise<string>;
}

const p = (c: Context, name: string): string => c.req.param(name) ?? '';
const repo = (c: Context): string => `repo/${p(c, 'repo')}`;
const run = (c: Context): string => `run/${p(c, 'id')}`;
const job = (c: Context): string => `job/${p(c, 'id')}`;
const secret = (c: Context): string => (c.req.param('repo') ? `${repo(c)}/secret/${p(c, 'name')}` : `secret/${p(c, 'name')}`);
const user = (c: Context): string => `user/${p(c, 'name')}`;
const token = (c: Context): string => `token/${p(c, 'id')}`;
const none = (): string => '';
/** The dashboard's secret form names the secret in its body (already parsed by the handler: hono keeps it). */
const formSecret = async (c: Context): Promise<string> => {
  const name = (await c.req.parseBody().catch(() => ({} as Record<string, unknown>))).name;
  const base = c.req.param('repo') ? `${repo(c)}/secret` : 'secret';
  return typeof name === 'string' && name ? `${base}/${name}` : base;
};

const TABLE: Record<string, AuditAction> = {
  'POST /api/repos': { action: 'repo.add', target: none },
  'PATCH /api/repos/:repo': { action: 'repo.update', target: repo },
  'POST /api/repos/:repo/runs': { action: 'run.trigger', target: repo },
  'POST /hooks/:repo': { action: 'run.trigger', target: repo },
  'POST /api/runs/:id/cancel': { action: 'run.cancel', target: run },
  'POST /api/runs/:id/rerun': { action: 'run.rerun', target: run },
  'POST /api/jobs/:id/retry': { action: 'job.retry', target: job },
  'POST /api/jobs/:id/approve': { action: 'job.approve', target: job },
  'POST /api/retention/sweep': { action: 'retention.sweep', target: none },
  'PUT /api/secrets/:name': { action: 'secret.set', target: secret },
  'DELETE /api/secrets/:name': { action: 'secret.delete', target: secret },
  'PUT /api/repos/:repo/secrets/:name': { action: 'secret.set', target: secret },
  'DELETE /api/repos/:repo/secrets/:name': { action: 'secret.delete', target: secret },
  'POST /api/login': { action: 'login', target: none },
  'POST /api/logout': { action: 'logout', target: none },
  // Accounts (the routes name the user or token they act on with c.set('auditTarget')).
  'PUT /api/me/password': { action: 'user.password', target: none },
  'POST /api/users': { action: 'user.add', target: none },
  'PATCH /api/users/:name': { action: 'user.update', target: user },
  'DELETE /api/users/:name': { action: 'user.delete', target: user },
  'PUT /api/users/:name/roles/:repo': { action: 'user.role', target: (c) => `${user(c)}/role/${p(c, 'repo')}` },
  'DELETE /api/users/:name/roles/:repo': { action: 'user.role', target: (c) => `${user(c)}/role/${p(c, 'repo')}` },
  'POST /api/tokens': { action: 'token.create', target: none },
  'DELETE /api/tokens/:id': { action: 'token.revoke', target: token },
  // The dashboard's forms.
  'POST /login': { action: 'login', target: none },
  'POST /logout': { action: 'logout', target: none },
  'POST /repos': { action: 'repo.add', target: none },
  'POST /repos/:repo/run': { action: 'run.trigger', target: repo },
  'POST /runs/:id/cancel': { action: 'run.cancel', target: run },
  'POST /runs/:id/rerun': { action: 'run.rerun', target: run },
  'POST /jobs/:id/retry': { action: 'job.retry', target: job },
  'POST /jobs/:id/approve': { action: 'job.approve', target: job },
  'POST /secrets': { action: 'secret.set', target: formSecret },
  'POST /secrets/:name/delete': { action: 'secret.delete', target: secret },
  'POST /repos/:repo/secrets': { action: 'secret.set', target: formSecret },
  'POST /repos/:repo/secrets/:name/delete': { action: 'secret.delete', target: secret },
  // The Tokens page names the token it acts on with c.set('auditTarget').
  'POST /tokens': { action: 'token.create', target: none },
  'POST /tokens/:id/revoke': { action: 'token.revoke', target: token },
};

/** Changing routes that are not audited: a job's own uploads, made with its transfer token. */
export const UNAUDITED: ReadonlySet<string> = new Set(['PUT /api/jobs/:id/artifacts/:name', 'PUT /api/jobs/:id/cache']);

export const routeKey = (method: string, pattern: string): string => `${method.toUpperCase()} ${pattern}`;

export function auditAction(method: string, pattern: string): AuditAction | null {
  const key = routeKey(method, pattern);
  if (UNAUDITED.has(key)) return null;
  return TABLE[key] ?? { action: key, target: none };
}

export const knownRoute = (method: string, pattern: string): boolean => routeKey(method, pattern) in TABLE || UNAUDITED.has(routeKey(method, pattern));
