// Real kiln processes for end-to-end tests: a server on a temp data folder and a loopback
// port, agents connected to it, and small clients for its API.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from './git.js';

const execCli = promisify(execFile);

export const KILN = join(import.meta.dirname, '../../dist/bundle/kiln.js');
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const AGENT_TOKEN = 'test-agent-token-0123456789';

/** A port that was free a moment ago (for servers that must come back on the same port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface KilnProcess {
  proc: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

function track(proc: ChildProcess): KilnProcess {
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return {
    proc,
    output: () => output,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

const running = new Set<ChildProcess>();
/** Kills every process a test started and left running (call in afterEach/afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  })));
}

export interface ServerProcess extends KilnProcess {
  url: string;
  port: number;
  dataDir: string;
  /** Calls the API with the admin token (unless `token: null`); resolves with status and JSON (or text). */
  api<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T }>;
}

export interface ServerOptions {
  dataDir?: string;
  port?: number;
  /** kiln.yml text; the default registers `repos` and turns the local pool off. */
  config?: string;
  repos?: Record<string, string>;
  env?: Record<string, string>;
  /** More arguments of `kiln server` (e.g. --stop-agents). */
  args?: string[];
}

export async function startServer(options: ServerOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? (await makeTempDir('kiln-data-'));
  const cwd = await makeTempDir('kiln-cwd-');
  const repos = Object.entries(options.repos ?? {}).map(([name, path]) => `  - { name: ${name}, path: ${JSON.stringify(path)} }`);
  const config = options.config ?? `repos:\n${repos.join('\n') || '  []'}\npools: []\nserver:\n  lease_timeout: 5s\n`;
  await writeFile(join(cwd, 'kiln.yml'), config.replace('repos:\n  []', 'repos: []'));
  const proc = spawn(process.execPath, [KILN, 'server', ...(options.args ?? [])], {
    cwd,
    env: {
      ...process.env, KILN_PORT: String(options.port ?? 0), KILN_HOST: '127.0.0.1', KILN_DATA: dataDir,
      KILN_ADMIN_TOKEN: ADMIN_TOKEN, KILN_AGENT_TOKEN: AGENT_TOKEN, KILN_LOG_LEVEL: 'debug', ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tracked = track(proc);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${tracked.output()}`)), 15_000);
    const look = () => {
      const line = tracked.output().split('\n').find((l) => l.includes('"kiln server listening"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    };
    proc.stdout!.on('data', look);
    void tracked.exited.then((code) => reject(new Error(`server exited (${code}):\n${tracked.output()}`)));
  });
  return {
    ...tracked, url, port: Number(new URL(url).port), dataDir,
    async api(method, path, body, token = ADMIN_TOKEN) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      // The server answers 413 before reading a huge body and closes: keep that off the pool.
      if (typeof body === 'string' && body.length > 1024 * 1024) headers.connection = 'close';
      const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // text/plain answers stay text
      }
      return { status: response.status, body: parsed as any };
    },
  };
}

export interface AgentOptions {
  name?: string;
  labels?: string;
  capacity?: number;
  token?: string;
  workDir?: string;
  env?: Record<string, string>;
}

export async function startAgent(server: { url: string }, options: AgentOptions = {}): Promise<KilnProcess & { workDir: string }> {
  const workDir = options.workDir ?? (await makeTempDir('kiln-agent-'));
  const args = [KILN, 'agent', '--server', server.url, '--token', options.token ?? AGENT_TOKEN, '--work-dir', workDir,
    '--labels', options.labels ?? 'linux', '--capacity', String(options.capacity ?? 1), '--name', options.name ?? `agent-${Math.random().toString(36).slice(2, 8)}`];
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { ...track(proc), workDir };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The run (with its jobs) that a push of `sha` to `repo` started, as soon as the server lists it (SPEC: within 2 s). */
export async function runOfCommit(server: Pick<ServerProcess, 'api'>, repo: string, sha: string, timeoutMs = 5000): Promise<any> {
  const run = await eventually(async () => (await server.api('GET', `/api/repos/${repo}/runs?limit=500`)).body
    .find((r: { sha: string; event: string }) => r.sha === sha && r.event === 'push'), timeoutMs, `the run of commit ${sha.slice(0, 8)}`);
  return (await server.api('GET', `/api/runs/${run.id}`)).body;
}

/** `GET /api/runs/:id` once the run has a final status. */
export async function runEnded(server: Pick<ServerProcess, 'api'>, runId: number, timeoutMs = 30_000): Promise<any> {
  return eventually(async () => {
    const { body } = await server.api('GET', `/api/runs/${runId}`);
    return ['success', 'failed', 'cancelled', 'skipped', 'error'].includes(body.status) ? body : null;
  }, timeoutMs, `run ${runId} to end`);
}

/** A job of a run, by name, as `GET /api/runs/:id` shows it now. */
export async function jobOf(server: Pick<ServerProcess, 'api'>, runId: number, name: string): Promise<any> {
  const { body } = await server.api('GET', `/api/runs/${runId}`);
  return body.jobs.find((j: { name: string }) => j.name === name) ?? null;
}

/** `GET /api/jobs/:id/log` split into lines (without the empty string after the last newline). */
/** Runs the built `kiln …args` against `server` with the admin token; resolves with its exit code and output. */
export async function kilnCli(server: { url: string }, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, KILN_SERVER: server.url, KILN_TOKEN: ADMIN_TOKEN };
  return execCli(process.execPath, [KILN, ...args], { env, timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** The job's log lines: its latest attempt, or `attempt`. */
export async function jobLog(server: Pick<ServerProcess, 'api'>, jobId: number, attempt?: number): Promise<string[]> {
  const { status, body } = await server.api('GET', `/api/jobs/${jobId}/log${attempt === undefined ? '' : `?attempt=${attempt}`}`);
  if (status !== 200) throw new Error(`log of job ${jobId}: ${status}`);
  const text = String(body);
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

// The same as the benchmarks use: the pool's records under <data>/pools/, pids checked by name.
export { killPoolAgents, poolAgentPids } from '../../scripts/bench/harness.js';
