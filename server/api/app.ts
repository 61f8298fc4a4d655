// The HTTP API (SPEC §3) as a hono app: reading is open (unless the server is private),
// changing anything needs the admin token; errors are {"error": "..."} with a fitting status.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { z } from 'zod';
import { KilnError, type ErrorCode } from '../../shared/errors.js';
import { pipelineJsonSchema } from '../../shared/pipeline/index.js';
import type { EventBus } from '../events.js';
import type { KilnService } from '../service.js';
import type { Store } from '../store/index.js';
import { linesHandler } from './log-lines.js';
import { logStream } from './log-stream.js';
import { agentView, jobView, repoView, runDetailView, runView } from './views.js';

export interface ApiOptions {
  store: Store;
  bus: EventBus;
  service: KilnService;
  logger: Logger;
  /** The kind of a presented bearer token, or null. */
  tokenKind(token: string | null): 'admin' | 'agent' | 'user' | null;
  private: boolean;
}

const STATUS: Record<ErrorCode, 400 | 401 | 403 | 404 | 409 | 413 | 500> = {
  bad_input: 400, invalid_pipeline: 400, unauthorized: 401, forbidden: 403, not_found: 404, conflict: 409,
  lease_lost: 409, too_large: 413, internal: 500,
};

const repoBody = z.union([z.strictObject({ name: z.string(), path: z.string() }), z.strictObject({ name: z.string(), url: z.string() })], {
  error: 'expected {"name", "path"} or {"name", "url"}',
});
const runBody = z.strictObject({ ref: z.string().min(1).optional(), sha: z.string().regex(/^[0-9a-f]{7,40}$/, { error: 'sha must be a hex commit id' }).optional(), env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional() });
const rerunBody = z.strictObject({ failed_only: z.boolean().optional() });
const secretBody = z.strictObject({ value: z.string().max(64 * 1024) });

export function createApi(options: ApiOptions): Hono {
  const { store, bus, service } = options;
  const app = new Hono();
  const token = (c: Context) => {
    const header = c.req.header('authorization') ?? '';
    return header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : null;
  };
  const admin = async (c: Context, next: () => Promise<void>) => {
    const kind = options.tokenKind(token(c));
    if (kind === null) throw new KilnError('unauthorized', 'this needs the admin token: Authorization: Bearer <token>');
    if (kind !== 'admin') throw new KilnError('forbidden', 'this token may not change anything');
    await next();
  };
  const json = async <T>(c: Context, schema: z.ZodType<T>): Promise<T> => {
    const text = await c.req.text();
    let data: unknown = {};
    if (text.trim() !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        throw new KilnError('bad_input', 'the body is not JSON');
      }
    }
    const result = schema.safeParse(data);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
      throw new KilnError('bad_input', `${where}${issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys[0]}"` : issue.message}`);
    }
    return result.data;
  };
  const id = (c: Context, name = 'id') => {
    const value = Number(param(c, name));
    if (!Number.isSafeInteger(value) || value <= 0) throw new KilnError('bad_input', `${name} must be a positive integer`);
    return value;
  };
  const param = (c: Context, name: string): string => c.req.param(name) ?? '';
  const repoNamed = (name: string) => {
    const repo = store.repos.getRepoByName(name);
    if (!repo) throw new KilnError('not_found', `no repo named ${name}`);
    return repo;
  };

  app.onError((error, c) => {
    if (error instanceof KilnError) return c.json({ error: error.message.split('\n')[0] }, STATUS[error.code]);
    options.logger.error({ err: error, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.use('*', bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ error: 'the body is larger than 1 MiB' }, 413) }));
  if (options.private) {
    app.use('/api/*', async (c, next) => {
      if (options.tokenKind(token(c)) === null) throw new KilnError('unauthorized', 'this server is private: send a token');
      await next();
    });
  }

  app.get('/healthz', (c) => (store.ping() ? c.json({ status: 'ok' }) : c.json({ status: 'unavailable', error: 'the database does not answer' }, 503)));
  app.get('/schema/pipeline.json', (c) => c.json(pipelineJsonSchema()));

  app.get('/api/repos', (c) => c.json(store.repos.listRepos().map((r) => repoView(r, store.runs.listLastRunsByBranch(r.id)))));
  app.post('/api/repos', admin, async (c) => {
    const body = await json(c, repoBody);
    const repo = await service.registerRepo(body);
    return c.json(repoView(repo, []), 201);
  });
  app.get('/api/repos/:repo/runs', (c) => {
    const repo = repoNamed(param(c, 'repo'));
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 50) || 50, 1), 500);
    const before = c.req.query('before') ? Number(c.req.query('before')) : undefined;
    return c.json(store.runs.listRuns(repo.id, { limit, ...(before ? { before } : {}) }).map(runView));
  });
  app.post('/api/repos/:repo/runs', admin, async (c) => {
    const body = await json(c, runBody);
    const run = await service.triggerRun(param(c, 'repo'), { ...body, event: 'api' });
    return c.json(runDetailView(run), 201);
  });
  app.put('/api/repos/:repo/secrets/:name', admin, async (c) => {
    const repo = repoNamed(param(c, 'repo'));
    const name = param(c, 'name');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new KilnError('bad_input', 'a secret name is letters, digits and _');
    store.secrets.setSecret(repo.id, name, (await json(c, secretBody)).value);
    return c.json({ name }, 200);
  });
  app.delete('/api/repos/:repo/secrets/:name', admin, (c) => {
    const repo = repoNamed(param(c, 'repo'));
    if (!store.secrets.deleteSecret(repo.id, param(c, 'name'))) throw new KilnError('not_found', `no secret ${param(c, 'name')}`);
    return c.body(null, 204);
  });
  app.get('/api/repos/:repo/secrets', admin, (c) => c.json(store.secrets.listSecretNames(repoNamed(param(c, 'repo')).id)));

  app.get('/api/runs/:id', (c) => {
    const run = store.runs.getRun(id(c));
    if (!run) throw new KilnError('not_found', `no run ${c.req.param('id')}`);
    return c.json({ ...runDetailView(run), jobs: run.jobs.map((j) => jobView(j)) });
  });
  app.post('/api/runs/:id/cancel', admin, (c) => c.json(runDetailView(service.cancelRun(id(c)))));
  app.post('/api/runs/:id/rerun', admin, async (c) => {
    const body = await json(c, rerunBody);
    return c.json(runDetailView(await service.rerun(id(c), body.failed_only ?? false)), 201);
  });
  app.get('/api/jobs/:id', (c) => {
    const job = store.jobs.getJobWithSteps(id(c));
    if (!job) throw new KilnError('not_found', `no job ${c.req.param('id')}`);
    return c.json(jobView(job));
  });
  app.post('/api/jobs/:id/approve', admin, (c) => c.json(jobView(service.approveJob(id(c)))));
  app.get('/api/jobs/:id/log', (c) => {
    const jobId = id(c);
    const job = store.jobs.getJob(jobId);
    if (!job) throw new KilnError('not_found', `no job ${jobId}`);
    const attempt = c.req.query('attempt') ? Number(c.req.query('attempt')) : undefined;
    const follow = ['1', 'true'].includes(c.req.query('follow') ?? '');
    return new Response(logStream({ store, bus, jobId, follow, ...(attempt ? { attempt } : {}) }), {
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
    });
  });
  app.get('/api/jobs/:id/lines', linesHandler(store, (c) => id(c)));
  app.get('/api/agents', (c) => c.json(store.agents.listAgents().map(agentView)));
  app.get('/api/pools', (c) => c.json(service.pools()));
  app.get('/api/queue', (c) =>
    c.json(service.queue().map(({ job, repo, runNumber, reason }) => ({ ...jobView(job), repo, run_number: runNumber, waiting: job.waiting ?? 'agent', reason }))),
  );
  return app;
}
