// The server's composition root: builds every part from the configuration, starts them in
// order, and stops them in reverse. Only this file (and the CLI) puts concrete things together.
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { KilnError } from '../shared/errors.js';
import { packageRoot } from '../shared/package-root.js';
import { createAutoscaler, createProcessProvider, type PoolAgents } from './autoscaler/index.js';
import { createDockerProvider } from './autoscaler/docker-provider.js';
import { pingEngine } from './autoscaler/docker-engine.js';
import { createSwarmProvider } from './autoscaler/swarm-provider.js';
import { recordPoolChanges } from './autoscaler/pool-changes.js';
import { createApi } from './api/app.js';
import { addressOf } from './audit/address.js';
import { recordPushes } from './audit/git-push.js';
import { auditSweepable } from './audit/store.js';
import { createEventsSocket } from './api/events-socket.js';
import { notFoundAnswer } from './api/http.js';
import { createDashboard } from './dashboard/index.js';
import { ensureTokens, registerTokens } from './auth.js';
import { accessFor, actorOf, can, isServerAdmin, type Principal } from './access/index.js';
import { createLogin } from './access/login.js';
import { createSsoSignIn } from './access/sso.js';
import { createOidcRoutes } from './oidc/index.js';
import { loadSecretBox, type SecretBox } from './secret-box.js';
import type { ServerConfig } from './config.js';
import { createEventBus } from './events.js';
import { createArtifactSweeper } from './files/artifact-sweeper.js';
import { createRetentionSweeper } from './retention/sweeper.js';
import { diskUsage } from './retention/usage.js';
import { createBlobStore } from './files/blob-store.js';
import type { JobFilesOptions } from './files/job-files.js';
import { createTransferTokens } from './files/transfer-token.js';
import { createGitHttpBackend } from './git/http-backend.js';
import { createStatusSender } from './forge/outbox.js';
import { createMirrors } from './git/mirror.js';
import { createNotifier } from './notify/notifier.js';
import { createNotificationSender } from './notify/sender.js';
import { createHub } from './hub/hub.js';
import { createJobQueue } from './queue/job-queue.js';
import { createExposition } from './metrics/exposition.js';
import { createMetrics } from './metrics/metrics.js';
import { createKilnService, type KilnService } from './service.js';
import { agentSpansSweepable, openDatabase, type Store } from './store/index.js';
import { createCronScheduler } from './triggers/cron.js';
import { createRepoTriggers } from './triggers/repos.js';
import { createRunStarter } from './triggers/run-starter.js';
import { registerStartupRepos } from './startup-repos.js';

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  service: KilnService;
  /**
   * Stops the server. Pool agents outlive it and rejoin its next start; with `stopAgents` they
   * are stopped too (each drains: its running jobs finish within the provider's grace, their
   * results delivered). Resolves with each pool's agents left running or stopped.
   */
  stop(options?: { stopAgents?: boolean }): Promise<PoolAgents[]>;
}

export interface StartOptions {
  logger: Logger;
  /** The `kiln` script that process pools start agents with (default: this build's). */
  kilnScript?: string;
}

export async function startServer(config: ServerConfig, { logger, kilnScript }: StartOptions): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = openDatabase(join(config.dataDir, 'kiln.db'), {
    onConvert: () => logger.info('converting the database to incremental auto-vacuum (one VACUUM)'),
  });
  // A restart must not cost running jobs: agents get a full lease period to reconnect.
  store.leases.extendLeases(Date.now(), config.leaseMs);
  for (const agent of store.agents.listAgents()) store.agents.setAgentStatus(agent.id, 'offline');
  // Sealed values need their key: a data folder that has some and no key file stops the start.
  let box: SecretBox;
  try {
    box = loadSecretBox(config.secretKeyFile
      ? { file: config.secretKeyFile, mayCreate: false, describe: `KILN_SECRET_KEY_FILE (${config.secretKeyFile})` }
      : { file: join(config.dataDir, 'secret.key'), mayCreate: !store.sealing.hasSealedValues() });
    store.sealing.unlock(box);
  } catch (error) {
    store.close();
    throw error;
  }
  // Artifacts and caches (notes/files-contract.md): archives on disk by digest, and per-job
  // transfer tokens keyed by this server's secret.
  const files: JobFilesOptions = {
    transfer: createTransferTokens(box.derive('job-files')),
    artifacts: createBlobStore(join(config.dataDir, 'artifacts')),
    caches: createBlobStore(join(config.dataDir, 'caches')),
    artifactMaxBytes: config.artifactMaxBytes,
    artifactExpireMs: config.artifactExpireMs,
    cacheMaxBytes: config.cacheMaxBytes,
    protectedBranches: config.protectedBranches,
  };
  const partials = { artifacts: files.artifacts.discardPartials(), caches: files.caches.discardPartials() };
  if (partials.artifacts + partials.caches > 0) logger.info(partials, 'partial uploads discarded');
  const tokens = ensureTokens(config.dataDir, { admin: config.adminToken, agent: config.agentToken });
  registerTokens(store, tokens);
  // One auth path for every entrance (server/access/): the API, the dashboard, /api/events, /git and /agent.
  const access = accessFor(store, { private: config.private });
  const login = createLogin(store);
  const principalOfRequest = (headers: { authorization?: string | null | undefined; cookie?: string | null | undefined }, path: string) =>
    access.authenticate({ authorization: headers.authorization, cookie: headers.cookie, method: 'GET', path });
  const agentOrAdmin = (p: Principal) => can(p, 'agent', null, config.private);
  const addressOfRequest = addressOf(config.trustedProxies);
  const bus = createEventBus();
  // SSH remotes' host keys: kiln's own file, first seen then checked (never ~/.ssh/known_hosts).
  const mirrors = createMirrors({ knownHostsFile: join(config.dataDir, 'known_hosts') });
  const app = new Hono();
  // The writes of a turn commit together (store.commitPerTurn): no answer leaves before its writes are committed.
  app.use('*', async (_c, next) => {
    await next();
    await store.committed();
  });
  const http = createAdaptorServer({ fetch: app.fetch }) as Server;
  // Why a getter: with port 0 the URL is known only once the socket is bound, and nothing
  // asks for it before an agent connects or a pool starts one.
  // Known once listening (read on every assignment, so kept rather than asked of the socket).
  let boundUrl: string | null = null;
  const url = (): string => {
    if (boundUrl) return boundUrl;
    const address = http.address() as AddressInfo | null;
    return config.port === 0 && address ? config.url.replace(/:0$/, `:${address.port}`) : config.url;
  };
  const tickMs = Math.max(200, Math.min(5000, Math.floor(config.leaseMs / 4)));
  // Built first, read at scrape time: the queue it asks for its depth is built next.
  const metrics = createMetrics({
    pools: config.pools, queued: () => queue.queued(), agents: () => store.agents.listAgents(),
    repoOfRun: (runId) => store.runs.getRunSummary(runId)?.repo ?? null,
  });
  const stopObserving = metrics.observe(bus);

  // Notifications: the queue's notifier writes them to the outbox with the run's end; the sender delivers them.
  const notifications = createNotificationSender({ store, logger: logger.child({ part: 'notify' }), smtp: config.smtp });
  const notifier = createNotifier({ store, serverUrl: url, enqueued: () => notifications.kick() });
  const queue = createJobQueue({
    store, bus, logger: logger.child({ part: 'queue' }), leaseMs: config.leaseMs, logCapBytes: config.logCapBytes, serverUrl: url, tickMs,
    files: { issueFilesToken: files.transfer.issue, artifactMaxBytes: files.artifactMaxBytes, cacheMaxBytes: files.cacheMaxBytes },
    observer: metrics, notifier,
  });
  const sweeper = createArtifactSweeper({ store, blobs: files.artifacts, logger: logger.child({ part: 'artifacts' }) });
  const retention = createRetentionSweeper({
    store, logger: logger.child({ part: 'retention' }), policy: config.retention, sweepArtifacts: () => sweeper.sweep(),
    sweepables: [auditSweepable(store.audit), agentSpansSweepable(store.usage)],
  });
  const hub = createHub({
    queue, logger: logger.child({ part: 'hub' }), pingMs: tickMs,
    authorize: (token) => agentOrAdmin(access.authenticate({ authorization: `Bearer ${token}`, cookie: null, method: 'GET', path: '/agent' })),
  });
  const starter = createRunStarter({
    store, logger, mirrors, mirrorDir: (repo) => triggers.mirrorDir(repo),
    onRunCreated: (run) => {
      metrics.runStarted(run);
      void queue.runCreated(run);
    },
  });
  const cron = createCronScheduler({ store, starter, logger, mirrors, mirrorDir: (repo) => triggers.mirrorDir(repo) });
  const triggers = createRepoTriggers({
    store, mirrors, starter, logger, dataDir: config.dataDir,
    onSynced: (repo) => void cron.refresh(store.repos.getRepo(repo.id) ?? repo).catch((error: unknown) => logger.error({ err: error }, 'cron refresh failed')),
  });
  // Before the pools start (and before the local pool's labels learn about Docker): what kiln.yml changed.
  for (const change of recordPoolChanges(store, config.pools, Date.now())) logger.info({ pool: change.pool, change: change.detail }, 'pool changed');
  const pools = createAutoscaler({
    pools: config.pools, store, hub: queue, bus, logger: logger.child({ part: 'autoscaler' }), serverUrl: url, agentToken: tokens.agent, observer: metrics,
    providers: {
      process: createProcessProvider({
        dataDir: config.dataDir, nodePath: process.execPath, logger,
        kilnScript: kilnScript ?? join(packageRoot(import.meta.url), 'dist', 'bundle', 'kiln.js'),
      }),
      docker: createDockerProvider({ logger: logger.child({ provider: 'docker' }) }),
      swarm: createSwarmProvider({ logger: logger.child({ provider: 'swarm' }) }),
    },
  });
  queue.explainPoolsWith((job) => pools.waitReason(job));
  const statuses = createStatusSender({ store, bus, logger: logger.child({ part: 'statuses' }), serverUrl: url });
  const service = createKilnService({ store, queue, starter, triggers, pools, logger: logger.child({ part: 'hooks' }), private: config.private });

  // Every route is attached before the server listens: a request in the first millisecond
  // (a health check, a webhook, a dashboard left open) meets the finished router.
  app.use('/git/*', recordPushes({ audit: store.audit, actorOf: (c) => actorOf(access.principalOf(c)), addressOf: addressOfRequest }));
  app.route('/git', createGitHttpBackend({
    mirrorDir: (name) => (store.repos.getRepoByName(name) ? triggers.mirrorDir({ name }) : null),
    // Clones are for agents (and the admin token); a user's token of the repo's readers would do too.
    authorize: (request) => {
      const p = principalOfRequest({ authorization: request.headers.get('authorization') }, new URL(request.url).pathname);
      return agentOrAdmin(p) || (p.kind === 'user' && can(p, 'read', null, true));
    },
    logger,
  }));
  app.route('/', createApi({
    store, bus, service, logger, access, files, metrics, retention,
    accounts: { login, sessions: access.sessions, addressOf: addressOfRequest },
    usage: () => diskUsage({
      store, databaseFile: join(config.dataDir, 'kiln.db'), artifactsDir: files.artifacts.dir, cachesDir: files.caches.dir,
      mirrorDir: (repo) => triggers.mirrorDir(repo),
    }),
    audit: { store: store.audit, actorOf: (c) => actorOf(access.principalOf(c)), addressOf: addressOfRequest },
    scrape: {
      exposition: createExposition(metrics.series),
      access: { metricsToken: config.metricsToken, private: config.private, isAdmin: (token) => isServerAdmin(principalOfRequest({ authorization: `Bearer ${token}` }, '/metrics')) },
    },
  }));
  // Single sign-on (server.oidc): its callback is a GET, so its sign-ins and refusals are recorded here.
  const recordLogin = (c: Context, outcome: 'ok' | 'refused', detail: string) => {
    const who = outcome === 'ok' ? actorOf(access.principalOf(c)) : { actor: 'anonymous', kind: 'anonymous' };
    store.audit.append({
      at: Date.now(), actor: who.actor, actorKind: who.kind, address: addressOfRequest(c), action: 'login',
      target: outcome === 'ok' ? `user/${who.actor}` : 'sso', outcome, status: outcome === 'ok' ? 303 : 400, detail,
    });
  };
  const ssoSignIn = createSsoSignIn({ store, sessions: access.sessions, access, refuse: (c, message) => c.text(message, 403) });
  const oidc = config.oidc ? createOidcRoutes({
    config: config.oidc, logger,
    signIn: (c, identity, next) => {
      const answer = ssoSignIn(c, identity, next);
      recordLogin(c, answer.status === 303 ? 'ok' : 'refused', 'sso');
      return answer;
    },
    onRefused: (c, reason) => recordLogin(c, 'refused', `sso: ${reason}`),
  }) : null;
  if (oidc) app.route('/', oidc.app);
  const dashboard = createDashboard({
    store, service, bus, logger: logger.child({ part: 'dashboard' }), access, login,
    ...(oidc ? { sso: () => (oidc.available() ? 'available' as const : 'unavailable' as const) } : {}),
    audit: { store: store.audit, addressOf: addressOfRequest },
  });
  app.route('/', dashboard.app);
  // route() does not carry a sub-app's notFound: the API's JSON 404 and the dashboard's page are chosen here.
  app.notFound((c) => (/^\/(api|hooks)\//.test(c.req.path) ? notFoundAnswer(c) : dashboard.notFound(c)));
  const events = createEventsSocket({
    bus, logger, afterCommit: store.afterCommit,
    // The dashboard's live updates come with its session cookie; scripts bring a token.
    mayRead: (request) => can(principalOfRequest(request.headers, '/api/events'), 'read', null, config.private),
  });
  http.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === '/agent') hub.handleUpgrade(request, socket, head);
    else if (path === '/api/events') events.handleUpgrade(request, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });

  await registerStartupRepos(config, store, triggers, logger);
  for (const run of store.runs.listUnfinishedRuns()) queue.runChanged(run.id);
  store.commitPerTurn((error) => {
    // What the process holds (queue, slots, events sent) no longer matches the file: start again
    // from what is committed. Agents replay what was not acknowledged.
    logger.fatal({ err: error }, 'a commit failed; the server stops');
    process.exit(70);
  });
  const port = await listen(http, config.host, config.port);
  boundUrl = config.port === 0 ? config.url.replace(/:0$/, `:${port}`) : config.url;
  // The repos' mirroring and catch-up run in the background, once the server answers: their
  // git processes (spawned on this thread) would otherwise hold up the first answer.
  await triggers.start();
  queue.start();
  statuses.start();
  notifications.start();
  hub.start();
  dashboard.start();
  // An issuer that does not answer yet is retried in the background; the login page says so meanwhile.
  if (oidc) void oidc.start();
  sweeper.start();
  retention.start();
  // The embedded `local` pool's agents run on this host: they can take image jobs when its
  // Docker engine answers (configured pools list `docker` in their labels themselves). The
  // pools start once that is known, without holding up the server's start.
  let stopping: Promise<PoolAgents[]> | null = null;
  const poolsStarted = (config.defaultPools ? pingEngine(config.dockerHost, {}, 2000) : Promise.resolve(false)).then((answers) => {
    if (answers) for (const pool of config.pools) if (!pool.labels.includes('docker')) pool.labels.push('docker');
    if (!stopping) pools.start();
  });
  logger.info({ url: url(), data: config.dataDir, repos: store.repos.listRepos().map((r) => r.name) }, 'kiln server listening');

  return {
    url: url(), port, store, service,
    stop: (options = {}) => (stopping ??= (async () => {
      await retention.stop();
      await sweeper.stop();
      dashboard.stop();
      oidc?.stop();
      await poolsStarted;
      await pools.stop();
      cron.stop();
      // Why before the hub stops: a draining agent finishes its jobs and delivers their results.
      const poolAgents = options.stopAgents ? await pools.stopAgents() : await pools.agentsRunning();
      await triggers.stop();
      await statuses.stop();
      queue.stop();
      await notifications.stop();
      await hub.stop();
      await events.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      stopObserving();
      store.close();
      return poolAgents;
    })()),
  };
}

/** How long a pool agent may take to drain when it is stopped (the providers' `remove`). */
const AGENT_GRACE_S = 10;

/**
 * The stopped server's last word on its pool agents:
 *   stopped; 3 pool agents left running (local: 2, gpu: 1): they rejoin when the server starts again …
 *   stopped, and so are its 3 pool agents (local: 2, gpu: 1)
 */
export function reportPoolAgents(logger: Logger, pools: readonly PoolAgents[], stopped: boolean): void {
  for (const p of pools) if (p.error) logger.warn({ pool: p.pool }, `pool ${p.pool}: ${p.error}`);
  const some = pools.filter((p) => p.agents > 0);
  const total = some.reduce((sum, p) => sum + p.agents, 0);
  const each = some.map((p) => `${p.pool}: ${p.agents}`).join(', ');
  const agents = `${total} pool agent${total === 1 ? '' : 's'} (${each})`;
  const byPool = Object.fromEntries(some.map((p) => [p.pool, p.agents]));
  if (stopped) logger.info({ poolAgents: byPool }, total === 0 ? 'stopped; no pool agents were running' : `stopped, and so ${total === 1 ? 'is its' : 'are its'} ${agents}`);
  else if (total === 0) logger.info({ poolAgents: byPool }, 'stopped; no pool agents left running');
  else logger.info({ poolAgents: byPool }, `stopped; ${agents} left running: they rejoin when the server starts again (kiln server --stop-agents stops them with the server)`);
}

function listen(http: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : error.code === 'EACCES' ? `no permission to listen on ${host}:${port}` : error.message;
      reject(new KilnError('bad_input', `cannot listen: ${why} (set KILN_PORT or server.port)`));
    });
    http.listen(port, host, () => resolve((http.address() as AddressInfo).port));
  });
}

/**
 * `kiln server`: reads the configuration, starts, and stops cleanly on SIGINT/SIGTERM.
 * Resolves with the process exit code once the server has stopped.
 */
export async function runServerProcess(options: {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  cpus: number;
  makeLogger(level: string): Logger;
  /** The `kiln` script process pools start agents with (the one this server runs from). */
  kilnScript?: string;
  /** `--stop-agents`: pool agents stop with the server instead of waiting for its next start. */
  stopAgents?: boolean;
}): Promise<number> {
  const { loadServerConfig } = await import('./config.js');
  const config = await loadServerConfig(options);
  const logger = options.makeLogger(config.logLevel);
  const server = await startServer(config, { logger, ...(options.kilnScript ? { kilnScript: options.kilnScript } : {}) });
  logger.info({ adminTokenFile: config.adminToken ? null : join(config.dataDir, 'admin.token') }, 'ready');
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) process.exit(1);
      const stopAgents = options.stopAgents === true;
      logger.info({ signal, stopAgents }, stopAgents
        ? `stopping, with the pool agents: each drains, and a job still running after ${AGENT_GRACE_S} s is killed`
        : 'stopping');
      // The providers give an agent 10 s to drain, then 5 s to die of SIGKILL.
      const force = setTimeout(() => {
        logger.error('the server did not stop in time; exiting');
        process.exit(1);
      }, stopAgents ? (AGENT_GRACE_S + 20) * 1000 : 10_000);
      force.unref();
      server.stop({ stopAgents }).then((pools) => {
        reportPoolAgents(logger, pools, stopAgents);
        resolve(0);
      }, (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        resolve(1);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
