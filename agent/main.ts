// The agent's composition root: builds its parts from the configuration, installs the signal
// handlers, and resolves with the process's exit code.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';
import { createConnection } from './connection/connection.js';
import { systemClock, type Clock } from './connection/clock.js';
import { createOrphanWatch } from './connection/orphan-watch.js';
import { pickBaseEnv } from './executors/host-env.js';
import { chooseExecutor } from './executors/choose.js';
import { connectDocker } from './executors/docker/engine.js';
import { createCheckout } from './git/checkout.js';
import { createAgentController, type AgentController } from './jobs/controller.js';
import { createJobRecords } from './jobs/job-records.js';
import { createJobSlots } from './jobs/job-slots.js';
import { createOutbox } from './jobs/outbox.js';
import { findLeftOvers } from './jobs/recovery.js';
import { createJobRunner } from './jobs/run-assignment.js';
import { openWorkDir } from './jobs/work-dir.js';
import { createTrash } from './jobs/trash.js';
import { openSpool } from './logs/spool.js';

// Required, not imported: see connection.ts (Node parses an imported CommonJS package's source).
const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');

export interface AgentMainOptions {
  config: AgentConfig;
  /** Where steps' base variables (PATH, HOME…) come from; the agent's own token is never passed on. */
  env: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  clock?: Clock;
  /** Install SIGTERM/SIGINT handlers (first: drain; second: cancel jobs and exit); default true. */
  handleSignals?: boolean;
}

/** Runs the agent until it has drained or was stopped; resolves with the exit code. */
export async function runAgent(o: AgentMainOptions): Promise<number> {
  const { config } = o;
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? pino({ level: config.logLevel, base: { agent: config.name } }, pino.destination({ dest: 2, sync: true }));
  const dirs = await openWorkDir(config.workDir, process.pid, config.gitCache);
  if (dirs.gitCacheProblem) logger.warn({ problem: dirs.gitCacheProblem, gitCache: dirs.gitCache }, 'shared git cache unusable; using the agent\'s own');
  if (dirs.removed.length > 0) logger.info({ removed: dirs.removed }, 'removed broken workspaces');
  try {
    const spool = await openSpool({ dir: dirs.spool });
    let controller: AgentController | null = null;
    const records = createJobRecords(dirs.spool);
    const outbox = createOutbox({ spool, records, logger, onSettled: () => controller?.changed() });
    outbox.adopt(await findLeftOvers(spool, records, logger));
    // What a clean takes out of a workspace waits in the trash until no job runs (trash.ts says why).
    const trash = createTrash(dirs.trash, { busy: () => slots.size > 0, logger });
    const checkout = createCheckout({ cacheDir: dirs.gitCache, serverUrl: config.serverUrl, token: config.token, remove: (path) => trash.put(path) });
    const docker = await connectDocker(config.docker, config.name, logger);
    const labels = docker && !config.labels.includes('docker') ? [...config.labels, 'docker'] : config.labels;
    // Whatever a glob matches, the agent's token is never among the variables a host job sees.
    const baseEnv = pickBaseEnv(o.env, { passthrough: config.envPassthrough, neverValues: [config.token] });
    const choice = { docker, config: config.docker, agentName: config.name, baseEnv };
    const run = createJobRunner({
      workspacesDir: dirs.workspaces, checkout, outbox, logger, now: () => clock.now(),
      transfers: { serverUrl: config.serverUrl, transfersDir: dirs.transfers, cacheBlobsDir: await sharedOr(config.cacheLocalDir, dirs.cacheBlobs), cacheLocalMaxBytes: config.cacheLocalMaxBytes },
      executorFor: (request) => chooseExecutor(choice, request),
    });
    const slots = createJobSlots({
      capacity: config.capacity, run, logger,
      onEnded: () => {
        void trash.empty();
        controller?.changed();
      },
    });
    void trash.empty(); // what a stopped agent left
    // A pool agent outliving its server (a crashed server's child process, a forgotten container)
    // gives up after --orphan-timeout. It cancels its running jobs rather than finishing them: the
    // server has long counted their leases as lost and may run them elsewhere, so finishing (a
    // deploy, say) would run a job twice with nobody waiting for the result. Their ends are
    // spooled for a later start. An agent started by hand keeps trying, as its owner expects.
    const orphanWatch = config.pool === null ? null : createOrphanWatch({
      clock, timeoutMs: config.orphanTimeoutMs,
      onOrphaned: (ms) => {
        logger.warn({ unreachableMs: ms, pool: config.pool }, 'server unreachable for --orphan-timeout: a pool agent without its server exits');
        controller?.stop(`the server was unreachable for ${Math.round(ms / 1000)} s`);
      },
    });
    const connection = createConnection({
      serverUrl: config.serverUrl,
      token: config.token,
      logger,
      clock,
      hello: () => controller!.hello(),
      onMessage: (message) => {
        if (message.type === 'welcome') orphanWatch?.reachable();
        controller!.handle(message);
      },
      onClose: () => {
        orphanWatch?.unreachable();
        controller?.disconnected();
      },
    });
    controller = createAgentController({
      identity: { name: config.name, labels, capacity: config.capacity, pool: config.pool },
      connection, outbox, slots, logger, clock, once: config.once,
    });
    const removeHandlers = o.handleSignals === false ? () => {} : onSignals(controller, logger);
    logger.info({ server: config.serverUrl, labels, docker: docker !== null, capacity: config.capacity, pool: config.pool, workDir: config.workDir, gitCache: dirs.gitCache, orphanTimeoutMs: orphanWatch ? config.orphanTimeoutMs : null, caBundle: config.docker.caBundle, volumes: config.docker.volumes.map((v) => `${v.host}:${v.container}:${v.readOnly ? 'ro' : 'rw'}`), hostJobEnv: Object.keys(baseEnv).sort() }, 'agent starting');
    connection.start();
    const code = await controller.finished;
    orphanWatch?.stop();
    removeHandlers();
    logger.info({ code }, 'agent exiting');
    return code;
  } finally {
    await dirs.release();
  }
}

/** First SIGTERM/SIGINT drains; a second one cancels the running jobs, reports them and exits. */
function onSignals(controller: AgentController, logger: Logger): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    logger.info({ signal }, received === 1 ? 'signal: draining (send it again to cancel the running jobs)' : 'signal: stopping');
    if (received === 1) controller.drain(signal);
    else controller.stop(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/** The shared folder of cache copies when it can be made, else the agent's own. */
async function sharedOr(shared: string | null, own: string): Promise<string> {
  if (shared === null) return own;
  return mkdir(shared, { recursive: true }).then(() => shared, () => own);
}
