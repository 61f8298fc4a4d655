// End to end: what a stopped server says of its pool agents. Ctrl-C leaves them running (they
// rejoin the next start, and the last log line says how many); --stop-agents stops them too.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { KILN, eventually, freePort, killAll, killPoolAgents, poolAgentPids, startServer, type ServerProcess } from '../helpers/kiln.js';
import { isAlive } from '../helpers/processes.js';

let repo: TestRepo;
let config: string;
let port: number;
let dataDir: string | undefined;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  port = await freePort();
  config = `repos:
  - { name: web, path: ${JSON.stringify(repo.path)} }
pools:
  - { name: local, provider: process, labels: [linux, local], min: 2, max: 2 }
server:
  lease_timeout: 5s
`;
});
afterAll(async () => {
  await killAll();
  if (dataDir) killPoolAgents(dataDir);
  await removeTempDirs();
});

const connected = async (server: ServerProcess) => (await server.api('GET', '/api/agents')).body
  .filter((a: { pool: string | null; status: string }) => a.pool === 'local' && a.status !== 'offline')
  .map((a: { name: string }) => a.name).sort();
const lastWords = (server: ServerProcess) => server.output().split('\n').filter((l) => l.includes('"msg":"stopped')).map((l) => JSON.parse(l) as { msg: string; poolAgents: Record<string, number> });

describe('kiln server stopped', () => {
  it('by Ctrl-C leaves its pool agents running and says so; they rejoin the next start', async () => {
    const server = await startServer({ port, config });
    dataDir = server.dataDir;
    const names = await eventually(async () => {
      const list = await connected(server);
      return list.length === 2 ? list : null;
    }, 20_000, 'two pool agents connected');
    const pids = poolAgentPids(server.dataDir);
    expect(pids.map((p) => p.name).sort()).toEqual(names);

    expect(await server.kill('SIGINT')).toBe(0);
    expect(lastWords(server)).toEqual([{ ...lastWords(server)[0], poolAgents: { local: 2 } }]);
    expect(lastWords(server)[0]!.msg).toBe('stopped; 2 pool agents (local: 2) left running: they rejoin when the server starts again (kiln server --stop-agents stops them with the server)');
    expect(pids.every((p) => isAlive(p.pid))).toBe(true);

    // The same agents come back to the next start; the pool starts none in their place.
    const again = await startServer({ port, config, dataDir: server.dataDir });
    await eventually(async () => JSON.stringify(await connected(again)) === JSON.stringify(names), 30_000, 'the two agents back');
    expect(poolAgentPids(again.dataDir).map((p) => p.pid).sort()).toEqual(pids.map((p) => p.pid).sort());
    expect(await again.kill('SIGTERM')).toBe(0);
  });

  it('with --stop-agents stops its pool agents with it, and says how many', async () => {
    const server = await startServer({ port, config, dataDir, args: ['--stop-agents'] });
    await eventually(async () => (await connected(server)).length === 2, 30_000, 'two pool agents connected');
    const pids = poolAgentPids(server.dataDir);
    expect(pids).toHaveLength(2);

    expect(await server.kill('SIGINT')).toBe(0);
    expect(lastWords(server).map((w) => w.msg)).toEqual(['stopped, and so are its 2 pool agents (local: 2)']);
    expect(pids.filter((p) => isAlive(p.pid))).toEqual([]);
    expect(poolAgentPids(server.dataDir)).toEqual([]);
  });

  it('with --stop-agents and no pool agent running says so', async () => {
    const server = await startServer({ port, config: 'repos: []\npools: []\n', args: ['--stop-agents'] });
    expect(await server.kill('SIGINT')).toBe(0);
    expect(lastWords(server).map((w) => w.msg)).toEqual(['stopped; no pool agents were running']);
  });

  it('refuses an unknown argument with one line and the usage, exit 2', () => {
    const result = spawnSync(process.execPath, [KILN, 'server', 'now'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('kiln: server: unexpected argument now');
    expect(result.stderr).toContain('Usage: kiln server [--stop-agents]');
  });
});
