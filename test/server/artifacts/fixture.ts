// A real kiln server in this process (port 0, a temp data folder, no pools), and jobs claimed
// through its store as an agent's claim would, with the transfer token the server issues for them.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import type { PlannedJob } from '../../../shared/pipeline/types.js';
import { PROTOCOL_VERSION } from '../../../shared/protocol/messages.js';
import { loadServerConfig, type ServerConfig } from '../../../server/config.js';
import { createTransferTokens } from '../../../server/files/transfer-token.js';
import { startServer, type RunningServer } from '../../../server/main.js';
import { loadSecretBox } from '../../../server/secret-box.js';
import { newRun, plan } from '../store/fixtures.js';

export const ADMIN = 'admin-token-for-artifact-tests';
export const AGENT = 'agent-token-for-artifact-tests';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A fresh data folder, removed after the test. */
export function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-art-'));
  cleanups.unshift(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type Kiln = Awaited<ReturnType<typeof startKiln>>;

/** Starts a server on `data` (default: a new folder); stopped after the test unless stopped before. */
export async function startKiln(over: Partial<ServerConfig> = {}, data = dataDir()) {
  const loaded = await loadServerConfig({
    env: { KILN_PORT: '0', KILN_DATA: data, KILN_ADMIN_TOKEN: ADMIN, KILN_AGENT_TOKEN: AGENT }, cwd: data, cpus: 1,
  });
  const config: ServerConfig = { ...loaded, repos: [], pools: [], defaultPools: false, ...over };
  const server: RunningServer = await startServer(config, { logger: pino({ level: 'silent' }) });
  let stopped = false;
  const stop = async () => {
    if (!stopped) await server.stop();
    stopped = true;
  };
  cleanups.push(stop);
  const { store } = server;
  const transfer = createTransferTokens(loadSecretBox({ file: join(data, 'secret.key'), mayCreate: false }).derive('job-files'));
  const repo = store.repos.getRepoByName('web') ?? store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const agent = store.agents.getAgentByName('a1') ?? store.agents.registerAgent({ name: 'a1', labels: ['linux'], pool: null, capacity: 4, protocol: PROTOCOL_VERSION, version: 'test' });

  /** A run of these jobs (created through the store, as a trigger would). */
  const run = (...jobs: PlannedJob[]) => store.runs.createRun(newRun(repo.id, { plan: plan(...jobs) }));
  const jobOf = (runId: number, name: string) => store.runs.getRun(runId)!.jobs.find((j) => j.name === name)!;

  /** Claims the job as an agent would; answers the lease and the transfer token the assignment carries. */
  const claim = (runId: number, name: string) => {
    const c = store.leases.claimJob(jobOf(runId, name).id, agent.id, Date.now(), config.leaseMs);
    if (!c) throw new Error(`job ${name} is not claimable`);
    return { jobId: c.job.id, lease: c.token, token: transfer.issue(c.job.id, c.token) };
  };
  /** Ends the job (its lease, and so its transfer token, goes). */
  const finish = (jobId: number, lease: string) => store.leases.completeJob(jobId, lease, { status: 'success', exitCode: 0 }, Date.now());

  return { server, store, data, config, url: server.url, stop, run, jobOf, claim, finish, transfer };
}

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; json(): any }

/** One HTTP request with the path sent exactly as given (no URL normalising: `..` stays). */
export function http(url: string, method: string, path: string, o: { token?: string | null; headers?: Record<string, string>; body?: Buffer | Buffer[] } = {}): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const headers: Record<string, string> = { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers };
  if (Buffer.isBuffer(o.body) && !('content-length' in headers) && !('transfer-encoding' in headers)) headers['content-length'] = String(o.body.length);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(o.body)) for (const chunk of o.body) req.write(chunk);
    else if (o.body) req.write(o.body);
    req.end();
  });
}

/** Uploads `data` as artifact `name` of job `jobId`, announcing `digest` (default: the right one). */
export const upload = (url: string, jobId: number, name: string, data: Buffer, token: string | null, digest = sha256(data)) =>
  http(url, 'PUT', `/api/jobs/${jobId}/artifacts/${name}`, { token, body: data, headers: { 'x-kiln-sha256': digest } });

/** Sends only a request's head (and `body`, if any) on a raw socket; answers what came back before the server closed it. */
export function rawHead(url: string, head: string, body = ''): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(`${head}\r\n\r\n${body}`));
    socket.on('data', (d) => (got += d.toString()));
    socket.on('close', () => resolve(got));
    socket.on('error', () => socket.destroy());
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}
