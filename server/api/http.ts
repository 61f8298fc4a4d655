// The API's HTTP plumbing, shared by the route files: the bearer token, JSON bodies
// checked with zod, id params, repo lookup, and the one place a KilnError becomes an answer.
import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import type { Bodies } from './bodies.js';
import { KilnError, type ErrorCode } from '../../shared/errors.js';
import type { EventBus } from '../events.js';
import type { KilnService } from '../service.js';
import type { Repo, Store } from '../store/index.js';
import type { Access, Sessions } from '../access/index.js';
import type { Login } from '../access/login.js';
import { presentedToken } from '../access/index.js';
import type { JobFilesOptions } from '../files/job-files.js';
import type { ScrapeAccess } from '../metrics/access.js';
import type { Exposition } from '../metrics/exposition.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RetentionSweeper } from '../retention/sweeper.js';
import type { DiskUsage } from '../retention/usage.js';
import type { Actor } from '../audit/record.js';
import type { AuditStore } from '../audit/store.js';

export interface ApiOptions {
  store: Store;
  bus: EventBus;
  service: KilnService;
  logger: Logger;
  /** Who a request is, and the guard every route declares (server/access/). */
  access: Access;
  /** Password logins and sessions for `/api/login`; absent: not served. */
  accounts?: { login: Login; sessions: Sessions; addressOf(c: Context): string };
  /** Artifacts and caches (server/files/); absent: their routes are not served. */
  files?: JobFilesOptions;
  /** Counts webhook deliveries and cache lookups; absent: not counted. */
  metrics?: Pick<Metrics, 'webhook' | 'cacheLookup'>;
  /** `GET /metrics` and who may scrape it; absent: not served. */
  scrape?: { exposition: Exposition; access: ScrapeAccess };
  /** The retention sweeper `POST /api/retention/sweep` runs; absent: not served. */
  retention?: RetentionSweeper;
  /** Disk use by kind and repo for `GET /api/usage`; absent: not served. */
  usage?: () => DiskUsage;
  /** The audit log (server/audit/): every changing request is recorded, `GET /api/audit` serves it; absent: neither. */
  audit?: AuditOptions;
  /** The clock the cost view's days are counted on (default Date.now). */
  now?: () => number;
}

export interface AuditOptions {
  store: AuditStore;
  /** Who made the request (the auth layer's actorOf plugs in here). */
  actorOf(c: Context): Actor;
  addressOf(c: Context): string;
  now?: () => number;
}

const STATUS: Record<ErrorCode, 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500> = {
  bad_input: 400, invalid_pipeline: 400, unauthorized: 401, forbidden: 403, not_found: 404, conflict: 409,
  lease_lost: 409, too_large: 413, too_many: 429, internal: 500,
};

/** Errors are `{"error": "<one line>"}`: a KilnError with its code's status, anything else 500 (and logged). */
export function errorAnswer(logger: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof KilnError) return c.json({ error: error.message.split('\n')[0] }, STATUS[error.code]);
    logger.error({ err: error, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal error' }, 500);
  };
}

export const notFoundAnswer: NotFoundHandler = (c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404);

export function bearerToken(c: Context): string | null {
  return presentedToken(c.req.header('authorization'));
}

/**
 * Refuses a body over `maxBytes` with `tooLarge`. Why not hono's bodyLimit alone: it reads
 * `c.req.raw.body`, which makes the Node adapter build a full web Request (streams, an
 * AbortController) for every request, a GET too: a tenth of a millisecond each. A declared
 * length is checked from the header, a GET or HEAD without one has no body; any other body
 * (chunked, or of unknown length) goes through hono's reader.
 */
export function limitBody(maxBytes: number, tooLarge: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  const unknownLength = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const length = c.req.header('transfer-encoding') === undefined ? c.req.header('content-length') : undefined;
    if (length !== undefined) return parseInt(length, 10) > maxBytes ? tooLarge(c) : next();
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return unknownLength(c, next);
  };
}

let schemas: Promise<typeof import('./bodies.js')> | null = null;

/** The body as the schema `name` in bodies.ts says, an empty body as `{}`; else a bad_input error naming the first problem. */
export async function readJson<K extends keyof Bodies>(c: Context, name: K): Promise<Bodies[K]> {
  const text = await c.req.text();
  let data: unknown = {};
  if (text.trim() !== '') {
    try {
      data = JSON.parse(text);
    } catch {
      throw new KilnError('bad_input', 'the body is not JSON');
    }
  }
  return checkBody(name, data);
}

/** `data` checked against the body schema `name` (the API's and the dashboard forms' one rule); throws bad_input with the first problem. */
export async function checkBody<K extends keyof Bodies>(name: K, data: unknown): Promise<Bodies[K]> {
  const schema = (await (schemas ??= import('./bodies.js'))).bodies[name];
  const result = schema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new KilnError('bad_input', `${where}${issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys[0]}"` : issue.message}`);
  }
  return result.data as Bodies[K];
}

export const param = (c: Context, name: string): string => c.req.param(name) ?? '';

/** A path parameter that must be a positive integer (an id). */
export function idParam(c: Context, name = 'id'): number {
  const value = Number(param(c, name));
  if (!Number.isSafeInteger(value) || value <= 0) throw new KilnError('bad_input', `${name} must be a positive integer`);
  return value;
}

export function repoNamed(store: Store, name: string): Repo {
  const repo = store.repos.getRepoByName(name);
  if (!repo) throw new KilnError('not_found', `no repo named ${name}`);
  return repo;
}
