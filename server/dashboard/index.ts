// The dashboard (SPEC §6): server-rendered pages with hono's JSX, a few small client modules,
// a session login with the admin token, CSRF-checked actions and the status badge.
// Pages answer `?partial=1` with only their <main> content, which assets/live.js swaps in
// when /api/events says something relevant changed. Routes live in routes/<concern>.ts, what
// a page shows in pages/<page>.tsx; the pools chart's sampler runs between start() and stop().
import { Hono, type Context, type NotFoundHandler } from 'hono';
import type { Logger } from 'pino';
import { KilnError } from '../../shared/errors.js';
import type { EventBus } from '../events.js';
import type { KilnService } from '../service.js';
import type { Store } from '../store/index.js';
import { createDashboardAuth } from './auth.js';
import { createRender, notFoundPage } from './render.js';
import { createActionRoutes } from './routes/actions.js';
import { createTokenRoutes } from './routes/tokens.js';
import { createAssetRoutes } from './routes/assets.js';
import { createAuthRoutes } from './routes/auth.js';
import { createBadgeRoutes } from './routes/badge.js';
import { createPageRoutes } from './routes/pages.js';
import { createSampler, type Repeat } from './sampler.js';
import { actorOf, type Access, type Sessions } from '../access/index.js';
import type { Login } from '../access/login.js';
import type { SsoState } from './pages/login.js';
import { recordChanges } from '../audit/record.js';
import type { AuditStore } from '../audit/store.js';

export interface DashboardOptions {
  store: Store;
  service: KilnService;
  bus?: EventBus;
  /** Who a request is and what it may do (server/access/), with the dashboard's sessions. */
  access: Access & { sessions: Sessions };
  /** Password logins for the login form; absent: tokens only. */
  login?: Login;
  /** Whether the login page offers single sign-on, and whether its issuer answers. */
  sso?: () => SsoState;
  logger: Logger;
  /** How often the pools chart takes a sample (default 5 s). */
  sampleEveryMs?: number;
  now?: () => number;
  /** The sampler's timer (default setInterval). */
  repeat?: Repeat;
  /** The audit log: every form POST is recorded (actor: the session's user, or the admin token); absent: not recorded. */
  audit?: { store: AuditStore; addressOf(c: Context): string };
}

/** The dashboard's routes (mount with `app.route('/', dashboard.app)`) and its sampler's lifecycle. */
export interface Dashboard {
  app: Hono;
  /** The answer to a path no route has (the server's notFound for all but /api/): "Not found" inside the layout. */
  notFound: NotFoundHandler;
  /** Starts the pools chart's sampler (one sample at once, then one per period). */
  start(): void;
  /** Stops the sampler; safe to call twice. */
  stop(): void;
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const { store, service, logger } = options;
  const now = options.now ?? Date.now;
  const sampler = createSampler({ store, logger, now, ...(options.sampleEveryMs ? { everyMs: options.sampleEveryMs } : {}), ...(options.repeat ? { repeat: options.repeat } : {}) });
  const auth = createDashboardAuth({ access: options.access, sessions: options.access.sessions });
  const render = createRender(auth.viewerOf);

  const app = new Hono();
  // Covers every route file below: route() copies their handlers into this app (they set no onError).
  app.onError((error, c) => {
    if (error instanceof KilnError && error.code === 'not_found') return render(c, notFoundPage(error.message));
    logger.error({ err: error, path: c.req.path }, 'dashboard request failed');
    return c.html('<!doctype html><title>error · kiln</title><h1>Something went wrong</h1>', 500);
  });
  // Assets and the login page are open on a private server too; pages and badges guard themselves.
  if (options.audit) {
    const record = recordChanges({
      audit: options.audit.store, addressOf: options.audit.addressOf, now,
      actorOf: (c) => actorOf(options.access.principalOf(c)),
    });
    // Mounted next to the API on one server: the API's requests are the API's own recorder's.
    app.use('*', (c, next) => (c.req.path.startsWith('/api/') || c.req.path.startsWith('/hooks/') ? next() : record(c, next)));
  }
  app.route('/', createAssetRoutes());
  app.route('/', createAuthRoutes({
    auth, render, logger, ...(options.sso ? { sso: options.sso } : {}),
    ...(options.login ? { login: options.login } : {}), ...(options.audit ? { addressOf: options.audit.addressOf } : {}),
  }));
  app.route('/', createPageRoutes({ store, service, auth, render, samples: sampler.samples, now }));
  app.route('/', createBadgeRoutes({ store, auth }));
  app.route('/', createActionRoutes({ store, service, auth }));
  app.route('/', createTokenRoutes({ store, auth, render, now }));
  const notFound: NotFoundHandler = (c) => render(c, notFoundPage(`nothing at ${c.req.path}`));
  return { app, notFound, start: () => sampler.start(), stop: () => sampler.stop() };
}
