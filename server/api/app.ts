// The HTTP API (SPEC §3) as a hono app: reading is open (unless the server is private),
// changing anything needs the admin token; errors are {"error": "..."} with a fitting status.
// The routes live in routes/<noun>.ts (full paths, mounted at '/'); the plumbing in http.ts.
import { Hono, type Context } from 'hono';
import { transferJob } from '../files/job-files.js';
import { errorAnswer, isTransferRoute, isUploadRoute, limitBody, notFoundAnswer, requireAnyToken, type ApiOptions } from './http.js';
import { createAgentRoutes } from './routes/agents.js';
import { createCacheRoutes } from './routes/caches.js';
import { createHookRoutes } from './routes/hooks.js';
import { createJobRoutes } from './routes/jobs.js';
import { createMetaRoutes } from './routes/meta.js';
import { createRepoRoutes } from './routes/repos.js';
import { createRunRoutes } from './routes/runs.js';
import { createSecretRoutes } from './routes/secrets.js';

export type { ApiOptions } from './http.js';

export function createApi(options: ApiOptions): Hono {
  const app = new Hono();
  // Why here and only here: `route()` copies a sub-app's handlers into this app, so this app's
  // error handler, and the middleware registered before them, cover every route file. A route
  // file must not set its own onError/notFound, nor `use('*')` (that would reach the whole server).
  app.onError(errorAnswer(options.logger));
  app.notFound(notFoundAnswer);
  const apiLimit = limitBody(1024 * 1024, (c) => c.json({ error: 'the body is larger than 1 MiB' }, 413));
  // Forges send large pushes (GitHub caps its payloads at 25 MiB).
  const hookLimit = limitBody(25 * 1024 * 1024, (c) => c.json({ error: 'the body is larger than 25 MiB' }, 413));
  // Archive uploads stream to disk under their own limits (server.artifact_max, cache_max).
  app.use('*', (c, next) => (c.req.path.startsWith('/hooks/') ? hookLimit(c, next)
    : isUploadRoute(c.req.method, c.req.path) ? next() : apiLimit(c, next)));
  const { files } = options;
  const transferAdmits = files && ((c: Context) => isTransferRoute(c.req.method, c.req.path) && transferJob(c, options.store, files.transfer) !== null);
  if (options.private) app.use('/api/*', requireAnyToken(options.tokenKind, transferAdmits));

  app.route('/', createMetaRoutes(options));
  app.route('/', createRepoRoutes(options));
  app.route('/', createSecretRoutes(options));
  app.route('/', createRunRoutes(options));
  app.route('/', createJobRoutes(options));
  app.route('/', createAgentRoutes(options));
  app.route('/', createHookRoutes(options));
  if (files) app.route('/', createCacheRoutes(options, files));
  return app;
}
