// Benchmark harness: a real server process on a temp data folder, real agent processes, a
// real git repository, and the numbers a benchmark prints. Loopback only.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_FLAGS, SERVER_NODE_FLAGS } from '../../shared/node-flags.js';

/** What users run: the bundle `npm run build` makes (BENCH_KILN for another build, e.g. dist/scripts/kiln.js). */
export const KILN = process.env.BENCH_KILN ?? fileURLToPath(new URL('../../bundle/kiln.js', import.meta.url));
const ADMIN = 'bench-admin-token';
const AGENT = 'bench-agent-token';
/** The agent token the bench servers accept (for simulated agents). */
export const AGENT_TOKEN = AGENT;
export const ADMIN_TOKEN = ADMIN;
const processes = new Set<ChildProcess>();
const folders: string[] = [];
const dataDirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

/** A git repository with `pipeline.yml` committed on main. */
export function makeRepo(pipeline: string): string {
  const dir = tempDir('kiln-bench-repo-');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@kiln.invalid', ...args], { cwd: dir });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'pipeline.yml'), pipeline);
  git('add', '.');
  git('commit', '-qm', 'bench');
  return dir;
}

export interface BenchServer {
  url: string;
  pid: number;
  /** The server's data folder (KILN_DATA). */
  data: string;
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and kills the agents its pools started. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** The port to listen on; default 0 (any free one, read from the "listening" log line). */
  port?: number;
  /** Kill the server and fail if it has not logged "listening" by then; default 60 s. */
  startTimeoutMs?: number;
}

export async function startServer(repos: Record<string, string>, extraConfig = 'pools: []\n', options: ServerOptions = {}): Promise<BenchServer> {
  const cwd = tempDir('kiln-bench-');
  const lines = Object.entries(repos).map(([name, path]) => `  - { name: ${name}, path: ${JSON.stringify(path)} }`);
  writeFileSync(join(cwd, 'kiln.yml'), `repos:\n${lines.join('\n') || '  []'}\n${extraConfig}`.replace('repos:\n  []', 'repos: []'));
  // The flags `npm start` uses, then BENCH_SERVER_NODE_ARGS: e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // to profile the server (a later flag wins: "--max-semi-space-size=16" undoes the default).
  const nodeArgs = [...SERVER_NODE_FLAGS, ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const data = join(cwd, 'data');
  dataDirs.push(data);
  const proc = spawn(process.execPath, [...nodeArgs, KILN, 'server'], {
    cwd, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, KILN_PORT: String(options.port ?? 0), KILN_DATA: data, KILN_ADMIN_TOKEN: ADMIN, KILN_AGENT_TOKEN: AGENT, KILN_LOG_LEVEL: 'info' },
  });
  processes.add(proc);
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let onData: ((d: Buffer) => void) | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"kiln server listening"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the server did not log "listening" within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
  }).finally(() => {
    clearTimeout(timer);
    proc.stdout!.off('data', onData!); // the rest of the log is read and dropped, or kept in BENCH_SERVER_LOG (a file)
    const keep = process.env.BENCH_SERVER_LOG;
    if (keep) proc.stdout!.on('data', (d: Buffer) => appendFileSync(keep, d));
  });
  proc.stdout!.resume();
  return {
    url, pid: proc.pid!, data,
    async stop() {
      await stopProcesses([proc]);
      killPoolAgents(data);
    },
    async api(method, path, body) {
      const response = await fetch(`${url}${path}`, {
        method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as never;
    },
  };
}

export function startAgents(server: BenchServer, count: number, capacity = 1): ChildProcess[] {
  return Array.from({ length: count }, (_, i) => {
    // The flags pools start agents with, then BENCH_AGENT_NODE_ARGS.
    const nodeArgs = [...AGENT_NODE_FLAGS, ...(process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    const proc = spawn(process.execPath, [...nodeArgs, KILN, 'agent', '--server', server.url, '--name', `bench-${i}`, '--capacity', String(capacity), '--work-dir', tempDir('kiln-bench-agent-')], {
      stdio: ['ignore', 'ignore', process.env.BENCH_DEBUG ? 'inherit' : 'ignore'], env: { ...process.env, KILN_AGENT_TOKEN: AGENT, KILN_LOG_LEVEL: 'warn' },
    });
    processes.add(proc);
    return proc;
  });
}

/** A loopback port that was free a moment ago (for a server whose address must be known before it starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resident and peak memory of a process, in MiB, from /proc. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of a process and of its children it has reaped (an agent's git and step processes). */
export function cpuSecondsWithChildren(pid: number): number {
  const { self, children } = cpuSecondsSplit(pid);
  return self + children;
}

/** CPU seconds of a process itself, and of the children it has reaped. */
export function cpuSecondsSplit(pid: number): { self: number; children: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { self: (Number(fields[11]) + Number(fields[12])) / 100, children: (Number(fields[13]) + Number(fields[14])) / 100 };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function report(name: string, figures: Record<string, string | number>): void {
  console.log(`${name}: ${Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : v}`).join('  ')}`);
}

function round(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/** The pids of the agents a `process` pool started, from the records under `<data>/pools/<pool>/*.json`. */
export function poolAgentPids(dataDir: string): Array<{ name: string; pid: number }> {
  const found: Array<{ name: string; pid: number }> = [];
  const root = join(dataDir, 'pools');
  if (!existsSync(root)) return found;
  for (const pool of readdirSync(root)) {
    let files: string[] = [];
    try {
      files = readdirSync(join(root, pool)).filter((f) => f.endsWith('.json'));
    } catch {
      continue; // not a folder, or removed meanwhile
    }
    for (const file of files) {
      try {
        const record = JSON.parse(readFileSync(join(root, pool, file), 'utf8')) as { name: string; pid: number };
        found.push({ name: record.name, pid: record.pid });
      } catch {
        // half-written or removed meanwhile
      }
    }
  }
  return found;
}

/**
 * SIGKILLs the agents a `process` pool started (detached: they outlive the server), with their
 * process groups: every recorded pid whose command line still names its agent (a reused pid is
 * left alone).
 */
export function killPoolAgents(dataDir: string): void {
  for (const { name, pid } of poolAgentPids(dataDir)) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.split('\0').includes(name)) continue;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
        break;
      } catch {
        // not a group leader, or gone meanwhile
      }
    }
  }
}

async function stopProcesses(procs: ChildProcess[]): Promise<void> {
  const alive = () => procs.filter((p) => p.exitCode === null && p.signalCode === null);
  for (const proc of alive()) proc.kill('SIGTERM');
  for (let i = 0; i < 50 && alive().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const proc of alive()) proc.kill('SIGKILL');
}

export async function cleanup(): Promise<void> {
  await stopProcesses([...processes]);
  // Servers first (so no pool starts another agent), then the agents their pools started.
  for (const dir of dataDirs) killPoolAgents(dir);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
}

/** Runs a benchmark's main, always cleaning up, with a non-zero exit on failure. */
export function runBench(main: () => Promise<void>): void {
  main().then(cleanup, async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    await cleanup();
    process.exitCode = 1;
  });
}
