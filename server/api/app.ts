// The HTTP API (SPEC §3) as a hono app: every route declares who may call it (server/access/:
// reading is open unless the server is private, changing needs a role); errors are {"error": "..."} with a fitting status.
// The routes live in routes/<noun>.ts (full paths, mounted at '/'); the plumbing in http.ts.
import { Hono } from 'hono';
import { errorAnswer, limitBody, notFoundAnswer, type ApiOptions } from './http.js';
import { isUpload } from '../files/job-files.js';
import { createAgentRoutes } from './routes/agents.js';
import { createArtifactRoutes } from './routes/artifacts.js';
import { createHookRoutes } from './routes/hooks.js';
import { createJobRoutes } from './routes/jobs.js';
import { createMetaRoutes } from './routes/meta.js';
import { createRepoRoutes } from './routes/repos.js';
import { createRunRoutes } from './routes/runs.js';
import { createSecretRoutes } from './routes/secrets.js';
import { createCacheRoutes } from './routes/caches.js';
import { createMetricsRoutes } from './routes/metrics.js';
import { createUsageRoutes } from './routes/usage.js';
import { createUsageAgentRoutes } from './routes/usage-agents.js';
import { createAuditRoutes } from './routes/audit.js';
import { createUserRoutes } from './routes/users.js';
import { recordChanges } from '../audit/record.js';

export type { ApiOptions } from './http.js';

export function createApi(options: ApiOptions): Hono {
  const app = new Hono();
  // Why here and only here: `route()` copies a sub-app's handlers into this app, so this app's
  // error handler, and the middleware registered before them, cover every route file. A route
  // file must not set its own onError/notFound, nor `use('*')` (that would reach the whole server).
  app.onError(errorAnswer(options.logger));
  app.notFound(notFoundAnswer);
  // First, so it sees every changing request's final answer, refusals by the checks below included.
  // Only the API's own paths: mounted at '/', a '*' would reach the dashboard's (it has its own recorder).
  if (options.audit) {
    const record = recordChanges({ ...options.audit, audit: options.audit.store });
    app.use('/api/*', record);
    app.use('/hooks/*', record);
  }
  const apiLimit = limitBody(1024 * 1024, (c) => c.json({ error: 'the body is larger than 1 MiB' }, 413));
  // Forges send large pushes (GitHub caps its payloads at 25 MiB).
  const hookLimit = limitBody(25 * 1024 * 1024, (c) => c.json({ error: 'the body is larger than 25 MiB' }, 413));
  // Artifact and cache uploads stream to disk under their own limits (the routes check them).
  app.use('*', (c, next) => (c.req.path.startsWith('/hooks/') ? hookLimit(c, next)
    : options.files && isUpload(c.req.method, c.req.path) ? next() : apiLimit(c, next)));

  app.route('/', createMetaRoutes(options));
  if (options.scrape) app.route('/', createMetricsRoutes({ scrape: options.scrape, access: options.access }));
  app.route('/', createUserRoutes(options));
  app.route('/', createRepoRoutes(options));
  app.route('/', createSecretRoutes(options));
  app.route('/', createRunRoutes(options));
  if (options.files) app.route('/', createCacheRoutes(options, options.files));
  app.route('/', createJobRoutes(options));
  app.route('/', createAgentRoutes(options));
  app.route('/', createHookRoutes(options));
  app.route('/', createUsageRoutes(options));
  app.route('/', createUsageAgentRoutes(options));
  if (options.files) app.route('/', createArtifactRoutes({ ...options, files: options.files }));
  if (options.audit) app.route('/', createAuditRoutes({ access: options.access, audit: options.audit.store, now: options.audit.now }));
  return app;
}
