// End to end: the agent's connection is cut mid-job (a TCP proxy between agent and server drops
// every socket); the agent keeps running the job, reconnects, and no log line is lost or doubled.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

interface Proxy {
  url: string;
  /** Connections made through the proxy so far. */
  connections: number;
  /** Destroys every proxied socket, both sides. */
  cut(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` (port 0). */
async function startProxy(target: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const keep = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const proxy: Proxy = { url: '', connections: 0, cut: () => {}, close: async () => {} };
  const server: Server = createServer((client) => {
    proxy.connections++;
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    keep(client);
    keep(upstream);
    client.pipe(upstream).on('close', () => client.destroy());
    upstream.pipe(client).on('close', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.cut = () => {
    for (const s of sockets) s.destroy();
  };
  proxy.close = () => new Promise((resolve) => {
    proxy.cut();
    server.close(() => resolve());
  });
  return proxy;
}

let server: ServerProcess;
let repo: TestRepo;
let proxy: Proxy;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({ repos: { web: repo.path } });
  proxy = await startProxy(server.port);
});
afterAll(async () => {
  await killAll();
  await proxy?.close();
  await removeTempDirs();
});

const numbered = (log: string[]) => log.filter((l) => l.startsWith('line ')).map((l) => Number(l.slice(5)));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('an agent whose connection is cut mid-job', () => {
  it('reconnects through the proxy, and the job succeeds with every line exactly once, in order', async () => {
    const agent = await startAgent({ url: proxy.url }, { name: 'cut-agent' });
    await eventually(async () => (await server.api('GET', '/api/agents')).body.some((a: { name: string; status: string }) => a.name === 'cut-agent' && a.status === 'idle'), 15_000, 'the agent connected through the proxy');
    const sha = await repo.commit({
      'pipeline.yml': 'jobs:\n  count:\n    steps:\n      - name: count\n        run: for i in $(seq 1 80); do echo "line $i"; sleep 0.05; done\n',
    });
    const run = await runOfCommit(server, 'web', sha);
    const jobId: number = run.jobs[0].id;

    for (const atLeast of [10, 40]) {
      await eventually(async () => numbered(await jobLog(server, jobId)).length >= atLeast, 15_000, `${atLeast} lines`);
      const before = proxy.connections;
      proxy.cut();
      // The agent comes back through the proxy while the job still runs.
      await eventually(async () => proxy.connections > before && (await server.api('GET', '/api/agents')).body
        .some((a: { name: string; status: string }) => a.name === 'cut-agent' && a.status === 'busy'), 15_000, 'the agent back');
    }

    const ended = await runEnded(server, run.id);
    expect(ended).toMatchObject({ status: 'success', jobs: [{ status: 'success', attempt: 1, exit_code: 0, agent: 'cut-agent' }] });
    const log = await jobLog(server, jobId);
    expect(numbered(log)).toEqual(range(1, 80));
    expect(log.filter((l) => l === '▶ count')).toHaveLength(1);
    expect(agent.output().match(/connection to server lost/g)?.length).toBeGreaterThanOrEqual(2);
  });
});
