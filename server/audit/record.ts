// The one middleware that writes the audit log: every changing request (not GET/HEAD/OPTIONS)
// on the app it is mounted on, after the handler ran or threw (then with the error handler's
// status), refusals included. Who it was comes from an injected `actorOf`, so the auth layer
// plugs in with one line; where from, from `addressOf` (address.ts).
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { forgeOf } from '../hooks/verify.js';
import { auditAction } from './actions.js';
import type { AuditOutcome, AuditStore } from './store.js';

export interface Actor {
  actor: string;
  kind: string;
}

export interface RecordOptions {
  audit: AuditStore;
  actorOf(c: Context): Actor;
  addressOf(c: Context): string;
  now?: () => number;
}

const READING = new Set(['GET', 'HEAD', 'OPTIONS']);

export function outcomeOf(status: number): AuditOutcome {
  if (status === 401 || status === 403 || status === 429) return 'refused';
  if (status >= 500) return 'error';
  if (status >= 400) return 'failed';
  return 'ok';
}

/** Records the request once the rest of the chain has answered. */
export function recordChanges({ audit, actorOf, addressOf, now = Date.now }: RecordOptions): MiddlewareHandler {
  return async (c, next) => {
    if (READING.has(c.req.method)) return next();
    await next();
    const routes = matchedRoutes(c);
    // The route proper is the last one matched that is not a `use()` middleware.
    const index = routes.findLastIndex((r) => r.method !== 'ALL');
    const pattern = index >= 0 ? routes[index]!.path : c.req.path;
    const entry = auditAction(c.req.method, pattern);
    if (!entry) return;
    if (index >= 0) c.req.routeIndex = index; // so c.req.param() reads that route's params
    const status = c.res.status;
    const who = pattern === '/hooks/:repo' ? hookActor(c) : actorOf(c);
    // A handler may name the target itself (a login names the user tried) with c.set('auditTarget', ...).
    const named = (c.get as (key: string) => unknown)('auditTarget');
    let target = typeof named === 'string' ? named : await entry.target(c);
    const redirected = formAnswer(c);
    const outcome = redirected?.outcome ?? outcomeOf(status);
    if (entry.action === 'repo.add' && outcome === 'ok') target = (await createdRepo(c)) ?? target;
    const detail = redirected?.detail ?? (outcome === 'ok' ? '' : await errorLine(c));
    audit.append({ at: now(), actor: who.actor, actorKind: who.kind, address: addressOf(c), action: entry.action, target, outcome, status, detail });
  };
}

/**
 * A dashboard form answers 303 either way: to /login when there is no session (refused), or
 * back to its page with `?error=<one line>` when the change was not made (failed).
 */
function formAnswer(c: Context): { outcome: AuditOutcome; detail: string } | null {
  const location = c.res.status >= 300 && c.res.status < 400 ? c.res.headers.get('location') : null;
  if (!location) return null;
  const url = new URL(location, 'http://kiln.invalid');
  if (url.pathname === '/login' && c.req.path !== '/login') return { outcome: 'refused', detail: 'no session' };
  const error = url.searchParams.get('error');
  return error === null ? null : { outcome: 'failed', detail: error };
}

function hookActor(c: Context): Actor {
  const headers = Object.fromEntries([...c.req.raw.headers].map(([k, v]) => [k.toLowerCase(), v]));
  return { actor: `hook:${forgeOf(headers) ?? 'unknown'}`, kind: 'hook' };
}

/** The answer's one-line error (never a request body: errors name problems, not values). */
async function errorLine(c: Context): Promise<string> {
  if (!c.res.headers.get('content-type')?.includes('application/json')) return '';
  try {
    const body = (await c.res.clone().json()) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : '';
  } catch {
    return '';
  }
}

async function createdRepo(c: Context): Promise<string | null> {
  if (!c.res.headers.get('content-type')?.includes('application/json')) return null;
  try {
    const body = (await c.res.clone().json()) as { name?: unknown };
    return typeof body.name === 'string' ? `repo/${body.name}` : null;
  } catch {
    return null;
  }
}
