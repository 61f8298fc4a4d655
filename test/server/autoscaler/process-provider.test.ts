// The process provider on real processes: a tiny stand-in script plays the agent (the real one is
// exercised end to end elsewhere). Agents are detached, found again from their records by a
// fresh provider (a restarted server), outlive a crashed server, and end on remove.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createProcessProvider, type ProcessProviderOptions } from '../../../server/autoscaler/process-provider.js';
import type { AgentSpec, Instance } from '../../../server/autoscaler/provider.js';
import type { PoolConfig } from '../../../server/config.js';
import { isAlive, waitFor } from '../../helpers/processes.js';
import { useTempDirs } from '../../helpers/tmp.js';

const STAND_IN = `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
const args = process.argv.slice(2);
const name = args[args.indexOf('--name') + 1];
const out = process.env.STANDIN_OUT;
process.on('SIGTERM', () => {
  if (process.env.STANDIN_IGNORE_TERM) return;
  writeFileSync(join(out, name + '.terminated'), '');
  process.exit(0);
});
writeFileSync(join(out, name + '.started.json'), JSON.stringify({ args, execArgv: process.execArgv, env: process.env, pid: process.pid, cwd: process.cwd() }));
console.log('stand-in ' + name + ' up');
setInterval(() => {}, 1000);
`;

const POOL: PoolConfig = { name: 'local', provider: 'process', labels: ['linux', 'local'], min: 0, max: 4, capacity: 2, idleTimeoutMs: 30_000, schedule: [], docker: null };
const SPEC: AgentSpec = { serverUrl: 'http://127.0.0.1:8080', token: 'agent-secret', labels: POOL.labels, capacity: 2 };
const tempDir = useTempDirs('kiln-pool-');
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

async function setup(over: Partial<ProcessProviderOptions> = {}) {
  const dir = await tempDir();
  const dataDir = join(dir, 'data');
  const out = join(dir, 'out');
  const kilnScript = join(dir, 'stand-in.mjs');
  writeFileSync(kilnScript, STAND_IN);
  await mkdir(out);
  const options: ProcessProviderOptions = {
    dataDir, nodePath: process.execPath, kilnScript, logger: pino({ level: 'silent' }),
    env: {
      PATH: process.env.PATH, STANDIN_OUT: out, KILN_ADMIN_TOKEN: 'admin-secret', KILN_LOG_LEVEL: 'debug',
      KILN_AGENT_ENV_PASSTHROUGH: 'SSL_*', KILN_DOCKER_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt', KILN_DOCKER_VOLUMES: '/srv/ref:/ref:ro',
    }, ...over,
  };
  const started = (name: string) => JSON.parse(readFileSync(join(out, `${name}.started.json`), 'utf8')) as { args: string[]; execArgv: string[]; env: Record<string, string>; pid: number; cwd: string };
  const whenStarted = async (instances: Instance[]) => {
    for (const i of instances) pids.push(Number(i.ref));
    expect(await waitFor(() => instances.every((i) => existsSync(join(out, `${i.name}.started.json`))), 10_000)).toBe(true);
  };
  return { dataDir, out, options, provider: createProcessProvider(options), started, whenStarted };
}

const processGroup = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);

describe('the process provider', () => {
  it('starts detached agent processes with the pool, name, labels and work folder, and the token out of sight', async () => {
    const { dataDir, provider, started, whenStarted } = await setup();
    const made = await provider.deploy(POOL, 2, SPEC);
    await whenStarted(made);
    expect(made.map((i) => i.name)).toEqual([expect.stringMatching(/^local-[0-9a-f]{8}$/), expect.stringMatching(/^local-[0-9a-f]{8}$/)]);
    expect(made[0]!.name).not.toBe(made[1]!.name);
    const [first] = made;
    const seen = started(first!.name);
    const workDir = join(dataDir, 'pools', 'local', first!.name);
    expect(seen.args).toEqual(['agent', '--server', 'http://127.0.0.1:8080', '--labels', 'linux,local', '--capacity', '2', '--pool', 'local', '--name', first!.name, '--work-dir', workDir, '--git-cache', join(dataDir, 'agent-cache', 'git'), '--cache-local-dir', join(dataDir, 'agent-cache', 'caches')]);
    expect(seen.execArgv).toEqual(['--max-semi-space-size=1', '--heap-growing-percent=20']); // AGENT_NODE_FLAGS
    expect(seen.args.join(' ')).not.toContain('agent-secret');
    expect(seen.env).toMatchObject({
      KILN_AGENT_TOKEN_FILE: join(dataDir, 'pools', 'agent.token'), KILN_LOG_LEVEL: 'debug',
      KILN_AGENT_ENV_PASSTHROUGH: 'SSL_*', KILN_DOCKER_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt', KILN_DOCKER_VOLUMES: '/srv/ref:/ref:ro',
    });
    expect(seen.env.KILN_ADMIN_TOKEN).toBeUndefined();
    expect(JSON.stringify(seen.env)).not.toContain('agent-secret'); // the token is in a 0600 file, not the environment
    expect(readFileSync(join(dataDir, 'pools', 'agent.token'), 'utf8')).toBe('agent-secret\n');
    expect(statSync(join(dataDir, 'pools', 'agent.token')).mode & 0o777).toBe(0o600);
    expect(seen.cwd).toBe(workDir);
    if (process.platform === 'linux') expect(processGroup(seen.pid)).toBe(seen.pid); // its own process group
    expect(first).toMatchObject({ pool: 'local', ref: String(seen.pid), log: join(dataDir, 'pools', 'local', `${first!.name}.log`) });
    expect(await waitFor(() => readFileSync(first!.log!, 'utf8').includes(`stand-in ${first!.name} up`), 5_000)).toBe(true);
    const record = JSON.parse(readFileSync(join(dataDir, 'pools', 'local', `${first!.name}.json`), 'utf8'));
    expect(record).toMatchObject({ name: first!.name, pool: 'local', pid: seen.pid });
  });

  it('finds its agents again from the records after a restart, and forgets the ones that died', async () => {
    const { dataDir, options, provider, whenStarted } = await setup();
    const made = await provider.deploy(POOL, 2, SPEC);
    await whenStarted(made);
    const restarted = createProcessProvider(options);
    expect(await restarted.list(POOL)).toEqual(made);
    expect(await restarted.list({ ...POOL, name: 'other' })).toEqual([]);

    process.kill(Number(made[0]!.ref), 'SIGKILL');
    expect(await waitFor(() => !isAlive(Number(made[0]!.ref)), 5_000)).toBe(true);
    expect(await restarted.list(POOL)).toEqual([made[1]]);
    const files = await readdir(join(dataDir, 'pools', 'local'));
    expect(files).not.toContain(`${made[0]!.name}.json`);
    expect(files).not.toContain(made[0]!.name);          // its work folder
    expect(files).toContain(`${made[0]!.name}.log`);     // kept for a look
  });

  it('never takes a record whose pid now belongs to another process for its agent', async () => {
    const { dataDir, provider } = await setup();
    const dir = join(dataDir, 'pools', 'local');
    await mkdir(dir, { recursive: true });
    writeFileSync(join(dir, 'local-0badf00d.json'), JSON.stringify({ name: 'local-0badf00d', pool: 'local', pid: process.pid, startedAtMs: 1, log: join(dir, 'local-0badf00d.log') }));
    expect(await provider.list(POOL)).toEqual([]);
    expect(existsSync(join(dir, 'local-0badf00d.json'))).toBe(false);
  });

  it('removes an agent with SIGTERM, and forgets it', async () => {
    const { out, provider, whenStarted } = await setup();
    const [agent] = await provider.deploy(POOL, 1, SPEC);
    await whenStarted([agent!]);
    await provider.remove(agent!);
    expect(existsSync(join(out, `${agent!.name}.terminated`))).toBe(true);
    expect(isAlive(Number(agent!.ref))).toBe(false);
    expect(await provider.list(POOL)).toEqual([]);
    await provider.remove(agent!); // already gone: fine
  });

  it('kills an agent that ignores SIGTERM after the grace period', async () => {
    const { options, out, provider, whenStarted } = await setup({ killGraceMs: 300 });
    const stubborn = createProcessProvider({ ...options, env: { ...options.env, STANDIN_IGNORE_TERM: '1' } });
    const [agent] = await stubborn.deploy(POOL, 1, SPEC);
    await whenStarted([agent!]);
    const started = Date.now();
    await stubborn.remove(agent!);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(isAlive(Number(agent!.ref))).toBe(false);
    expect(existsSync(join(out, `${agent!.name}.terminated`))).toBe(false);
    expect(await provider.list(POOL)).toEqual([]);
  });

  it('rejects a deploy whose program cannot start, leaving nothing behind', async () => {
    const { dataDir, options } = await setup();
    const broken = createProcessProvider({ ...options, nodePath: '/nonexistent/node' });
    await expect(broken.deploy(POOL, 1, SPEC)).rejects.toThrow('cannot start /nonexistent/node: ENOENT');
    expect(await broken.list(POOL)).toEqual([]);
    expect((await readdir(join(dataDir, 'pools', 'local'))).filter((f) => !f.endsWith('.log'))).toEqual([]);
  });

  it('starts agents that outlive a crash of the server', async () => {
    const { options, out, provider } = await setup();
    const module = pathToFileURL(resolve('dist/server/autoscaler/process-provider.js')).href;
    expect(existsSync(new URL(module)), 'run `npx tsc -b` first').toBe(true);
    const server = `
      const { createProcessProvider } = await import(${JSON.stringify(module)});
      const logger = { info() {}, warn() {}, error() {}, child() { return logger; } };
      const options = JSON.parse(process.argv[1]);
      const [agent] = await createProcessProvider({ ...options, logger }).deploy(${JSON.stringify(POOL)}, 1, ${JSON.stringify(SPEC)});
      process.stdout.write(JSON.stringify(agent), () => process.kill(process.pid, 'SIGKILL'));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', server, JSON.stringify({ ...options, logger: undefined })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, sig) => done(sig)));
    expect(signal).toBe('SIGKILL');
    const agent = JSON.parse(stdout) as Instance;
    pids.push(Number(agent.ref));
    expect(await waitFor(() => existsSync(join(out, `${agent.name}.started.json`)), 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(isAlive(Number(agent.ref))).toBe(true);
    expect(await provider.list(POOL)).toEqual([agent]);
    await provider.remove(agent);
    expect(isAlive(Number(agent.ref))).toBe(false);
  });
});
