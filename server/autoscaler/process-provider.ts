// The `process` provider: agents as detached child processes of the server's host. They outlive
// a crash of the server (own process group, output to a file, unref'd) and are found again from
// the records under <data>/pools/<pool>/. They share one git cache, <data>/agent-cache/git, which
// outlives them: the next agent of the pool does not fetch the history again.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PoolConfig } from '../config.js';
import { forgetRecord, isAgentAlive, isRunning, pruneLogs, readRecords, writeRecord, type AgentRecord } from './process-records.js';
import type { AgentProvider, AgentSpec, Instance } from './provider.js';
import { AGENT_NODE_FLAGS } from '../../shared/node-flags.js';

export interface ProcessProviderOptions {
  /** The server's data folder; agents live under <data>/pools/<pool>/. */
  dataDir: string;
  /** The node binary (process.execPath). */
  nodePath: string;
  /** The `kiln` script (<repo>/dist/bundle/kiln.js); run as `node kilnScript agent …`. */
  kilnScript: string;
  logger: Logger;
  /**
   * The environment agents start from. The server's own KILN_* variables (tokens, ports) are
   * left out; KILN_LOG_LEVEL, KILN_AGENT_ENV_PASSTHROUGH and the agents' Docker settings
   * (KILN_DOCKER*: the CA bundle and volumes too; KILN_DIND_*) pass.
   * Default: the server's.
   */
  env?: Readonly<Record<string, string | undefined>>;
  now?: () => number;
  /** The random part of agent names (`local-<randomId>`). */
  randomId?: () => string;
  /** SIGTERM → SIGKILL delay in `remove` (default 10 s). */
  killGraceMs?: number;
  /** Logs of gone agents kept per pool (default 20). */
  keepLogs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createProcessProvider(options: ProcessProviderOptions): AgentProvider {
  const { dataDir, nodePath, kilnScript, logger } = options;
  const now = options.now ?? Date.now;
  const randomId = options.randomId ?? (() => randomBytes(4).toString('hex'));
  const killGraceMs = options.killGraceMs ?? 10_000;
  const keepLogs = options.keepLogs ?? 20;
  const baseEnv = Object.fromEntries(Object.entries(options.env ?? process.env)
    .filter(([key, value]) => value !== undefined && (!key.startsWith('KILN_') || key === 'KILN_LOG_LEVEL' || key === 'KILN_AGENT_ENV_PASSTHROUGH' || key === 'KILN_CACHE_LOCAL_MAX' || key.startsWith('KILN_DOCKER') || key.startsWith('KILN_DIND_'))));
  const poolDir = (pool: string) => join(dataDir, 'pools', pool);
  // Why outside the agents' work folders: those are deleted when an agent is gone (forgetRecord).
  const gitCache = join(dataDir, 'agent-cache', 'git');
  const toInstance = (r: AgentRecord): Instance => ({ name: r.name, pool: r.pool, startedAtMs: r.startedAtMs, ref: String(r.pid), log: r.log });

  /**
   * The token file the agents read (KILN_AGENT_TOKEN_FILE): <data>/pools/agent.token, 0600,
   * rewritten when the token changed. Why a file of its own and not <data>/agent.token: the
   * token may come from the server's KILN_AGENT_TOKEN, and then that file does not exist.
   */
  async function tokenFile(token: string): Promise<string> {
    const file = join(dataDir, 'pools', 'agent.token');
    if ((await readFile(file, 'utf8').catch(() => '')).trim() === token) return file;
    await mkdir(join(dataDir, 'pools'), { recursive: true });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(temp, `${token}\n`, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, file);
    return file;
  }

  async function startOne(pool: PoolConfig, spec: AgentSpec): Promise<Instance> {
    const dir = poolDir(pool.name);
    const name = `${pool.name}-${randomId()}`;
    const workDir = join(dir, name);
    const log = join(dir, `${name}.log`);
    await mkdir(workDir, { recursive: true });
    const args = [...AGENT_NODE_FLAGS, kilnScript, 'agent', '--server', spec.serverUrl, '--labels', spec.labels.join(','),
      '--capacity', String(spec.capacity), '--pool', pool.name, '--name', name, '--work-dir', workDir, '--git-cache', gitCache, '--cache-local-dir', join(dataDir, 'agent-cache', 'caches')];
    const token = await tokenFile(spec.token);
    const out = openSync(log, 'a', 0o600);
    let pid: number;
    try {
      // Why a file: a command line is readable by every local user, an environment by the same user.
      const child = spawn(nodePath, args, { detached: true, stdio: ['ignore', out, out], cwd: workDir, env: { ...baseEnv, KILN_AGENT_TOKEN_FILE: token } });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      child.on('error', (error) => logger.warn({ err: error, pool: pool.name, agent: name }, 'agent process error'));
      child.unref();
      pid = child.pid!;
    } catch (error) {
      await rm(workDir, { recursive: true, force: true });
      throw new Error(`cannot start ${nodePath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    } finally {
      closeSync(out);
    }
    const record: AgentRecord = { name, pool: pool.name, pid, startedAtMs: now(), log };
    await writeRecord(dir, record);
    logger.info({ pool: pool.name, agent: name, pid, log }, 'agent process started');
    return toInstance(record);
  }

  return {
    kind: 'process',
    async deploy(pool, count, spec) {
      const made: Instance[] = [];
      for (let i = 0; i < count; i++) made.push(await startOne(pool, spec));
      return made;
    },
    async list(pool) {
      const dir = poolDir(pool.name);
      const records = await readRecords(dir, (file, error) => logger.warn({ err: error, pool: pool.name, file }, 'unreadable agent record; ignored'));
      const live = records.filter((r) => isAgentAlive(r.pid, r.name));
      const dead = records.filter((r) => !live.includes(r));
      for (const r of dead) {
        await forgetRecord(dir, r.name);
        logger.info({ pool: pool.name, agent: r.name, pid: r.pid }, 'agent process gone');
      }
      if (dead.length > 0) await pruneLogs(dir, new Set(live.map((r) => r.name)), keepLogs);
      return live.sort((a, b) => a.startedAtMs - b.startedAtMs || a.name.localeCompare(b.name)).map(toInstance);
    },
    async remove(instance) {
      const pid = Number(instance.ref);
      const log = logger.child({ pool: instance.pool, agent: instance.name, pid });
      const gone = async (ms: number) => {
        for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) if (!isRunning(pid)) return true;
        return !isRunning(pid);
      };
      if (isAgentAlive(pid, instance.name)) {
        try {
          process.kill(pid, 'SIGTERM'); // the agent drains on SIGTERM
        } catch {
          // it ended between the check and the signal
        }
        if (!(await gone(killGraceMs))) {
          log.warn({ graceMs: killGraceMs }, 'agent process ignored SIGTERM; killing it');
          try {
            process.kill(-pid, 'SIGKILL'); // its process group: it was started detached
          } catch {
            process.kill(pid, 'SIGKILL'); // not a group leader after all
          }
          if (!(await gone(5_000))) throw new Error(`agent ${instance.name} (pid ${pid}) survived SIGKILL`);
        }
        log.info('agent process removed');
      }
      await forgetRecord(poolDir(instance.pool), instance.name);
    },
  };
}
