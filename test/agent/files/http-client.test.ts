// The agent's transfer client against a real loopback server that behaves as the files contract says.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFilesClient, TransferError } from '../../../agent/files/http-client.js';
import { digestFile } from '../../../agent/files/digest.js';
import { useTempDirs } from '../../helpers/tmp.js';

const tempDir = useTempDirs('kiln-client-');
const TOKEN = '7.abc';
const FAST = { initialMs: 10, maxMs: 40, totalMs: 3000 };

interface FakeServer {
  url: string;
  port: number;
  server: Server;
  /** Complete, verified uploads by name. */
  stored: Map<string, Buffer>;
  attempts: number;
  close(): Promise<void>;
}

/** PUT /api/jobs/7/artifacts/:name and GET /api/artifacts/:name as the contract has them; `behave` runs first and may answer. */
async function fakeServer(o: { maxBytes?: number; port?: number; behave?: (req: IncomingMessage, res: ServerResponse, attempt: number) => boolean } = {}): Promise<FakeServer> {
  const stored = new Map<string, Buffer>();
  const state = { attempts: 0 };
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer(async (req, res) => {
    state.attempts++;
    if (o.behave?.(req, res, state.attempts)) return;
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { error: 'this needs the job\'s transfer token' });
    const put = /^\/api\/jobs\/7\/artifacts\/([^/]+)$/.exec(req.url ?? '');
    if (req.method === 'PUT' && put) {
      const name = decodeURIComponent(put[1]!);
      if (Number(req.headers['content-length']) > (o.maxBytes ?? Infinity)) return json(res, 413, { error: `artifact "${name}" is over server.artifact_max (1.0 KiB)` });
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      if (createHash('sha256').update(body).digest('hex') !== req.headers['x-kiln-sha256']) return json(res, 400, { error: 'the body does not match X-Kiln-Sha256' });
      const replaced = stored.has(name);
      stored.set(name, body);
      return json(res, replaced ? 200 : 201, { artifact: { name, size: body.length } });
    }
    const get = /^\/api\/artifacts\/([^/]+)$/.exec(req.url ?? '');
    const blob = get ? stored.get(decodeURIComponent(get[1]!)) : undefined;
    if (req.method === 'GET' && blob) return res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': blob.length }).end(blob);
    return json(res, 404, { error: 'no such thing' });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const fake: FakeServer = {
    url: `http://127.0.0.1:${port}`, port, server, stored,
    get attempts() { return state.attempts; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  servers.push(fake);
  return fake;
}

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function archive(bytes: number): Promise<{ file: string; data: Buffer }> {
  const data = randomBytes(bytes);
  const file = join(await tempDir(), 'a.tgz');
  await writeFile(file, data);
  return { file, data };
}

const client = (url: string, signal = new AbortController().signal, token = TOKEN) => createFilesClient({ serverUrl: url, token, signal, retry: FAST });

describe('the files client', () => {
  it('PUTs an archive with the transfer token, its length and its digest, and reads the answer', async () => {
    const server = await fakeServer();
    const { file, data } = await archive(200_000);
    const answer = await client(server.url).put('/api/jobs/7/artifacts/test%20(node%3D18)', file, await digestFile(file));
    expect(answer).toEqual({ artifact: { name: 'test (node=18)', size: 200_000 } });
    expect(server.stored.get('test (node=18)')?.equals(data)).toBe(true);
  });

  it('takes a 4xx as final, with the server\'s one-line error: no retry', async () => {
    const server = await fakeServer();
    const { file } = await archive(100);
    const wrong = { ...(await digestFile(file)), sha256: '0'.repeat(64) };
    const err = await client(server.url).put('/api/jobs/7/artifacts/dist', file, wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect(err).toMatchObject({ message: 'the body does not match X-Kiln-Sha256', status: 400 });
    expect(server.attempts).toBe(1);
    const denied = await client(server.url, undefined, 'nope').getJson('/api/jobs/7/artifacts').catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 401 });
  });

  it('takes 413 (over server.artifact_max) as final, even when the server does not read the body', async () => {
    const server = await fakeServer({ maxBytes: 1024 });
    const { file } = await archive(2_000_000);
    const err = await client(server.url).put('/api/jobs/7/artifacts/dist', file, await digestFile(file)).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'artifact "dist" is over server.artifact_max (1.0 KiB)', status: 413 });
    expect(server.attempts).toBe(1);
  });

  it('ends in one complete upload when the server drops the first connection in the middle of it', async () => {
    let received = 0;
    const server = await fakeServer({
      behave: (req, _res, attempt) => {
        if (attempt !== 1) return false;
        req.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > 256 * 1024) req.socket.destroy();
        });
        return true;
      },
    });
    const { file, data } = await archive(4 * 1024 * 1024);
    const retries: string[] = [];
    const c = createFilesClient({ serverUrl: server.url, token: TOKEN, signal: new AbortController().signal, retry: FAST, onRetry: (what, reason) => retries.push(`${what}: ${reason}`) });
    await c.put('/api/jobs/7/artifacts/dist', file, await digestFile(file));
    expect(received).toBeGreaterThan(256 * 1024);
    expect(received).toBeLessThan(data.length);
    expect(server.attempts).toBe(2);
    expect(server.stored.size).toBe(1);
    expect(server.stored.get('dist')?.equals(data)).toBe(true);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatch(/^PUT \/api\/jobs\/7\/artifacts\/dist: /);
  });

  it('waits through a server restart: connection refused, then the server is back on its port', async () => {
    const first = await fakeServer();
    const port = first.port;
    await first.close();
    const { file, data } = await archive(10_000);
    const upload = client(`http://127.0.0.1:${port}`).put('/api/jobs/7/artifacts/dist', file, await digestFile(file));
    await new Promise((r) => setTimeout(r, 150));
    const again = await fakeServer({ port });
    await upload;
    expect(again.stored.get('dist')?.equals(data)).toBe(true);
  });

  it('retries 5xx answers, and gives up after the total time with the last reason', async () => {
    const flaky = await fakeServer({ behave: (_req, res, attempt) => attempt <= 2 && Boolean(res.writeHead(503).end('{"error":"restarting"}')) });
    const { file } = await archive(100);
    await client(flaky.url).put('/api/jobs/7/artifacts/dist', file, await digestFile(file));
    expect(flaky.attempts).toBe(3);
    const down = await fakeServer({ behave: (_req, res) => Boolean(res.writeHead(502).end()) });
    const quick = createFilesClient({ serverUrl: down.url, token: TOKEN, signal: new AbortController().signal, retry: { initialMs: 10, maxMs: 20, totalMs: 200 } });
    await expect(quick.getJson('/api/jobs/7/cache?key=k')).rejects.toThrow(/^gave up after \d+ s: the server answered 502$/);
  });

  it('stops retrying when the job is cancelled', async () => {
    const down = await fakeServer({ behave: (_req, res) => Boolean(res.writeHead(503).end()) });
    const cancel = new AbortController();
    const slow = createFilesClient({ serverUrl: down.url, token: TOKEN, signal: cancel.signal, retry: { initialMs: 1000, maxMs: 1000, totalMs: 60_000 } });
    const started = Date.now();
    const pending = slow.getJson('/api/jobs/7/cache?key=k');
    setTimeout(() => cancel.abort('cancelled'), 100);
    await expect(pending).rejects.toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('downloads to a file while hashing it, and retries a download that broke off', async () => {
    const server = await fakeServer({
      behave: (req, res, attempt) => {
        if (attempt !== 2 || req.method !== 'GET') return false;
        res.writeHead(200, { 'content-length': 1_000_000 });
        res.write(Buffer.alloc(1000));
        setTimeout(() => res.socket?.destroy(), 20);
        return true;
      },
    });
    const { file, data } = await archive(1_000_000);
    const c = client(server.url);
    await c.put('/api/jobs/7/artifacts/dist', file, await digestFile(file));
    const target = join(await tempDir(), 'down.tgz');
    const digest = await c.download('/api/artifacts/dist', target);
    expect(server.attempts).toBe(3);
    expect(digest).toEqual({ sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
    expect((await readFile(target)).equals(data)).toBe(true);
  });
});
