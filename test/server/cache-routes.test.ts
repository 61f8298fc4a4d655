// The cache routes over real HTTP (port 0) on a real SQLite file and a real blob folder, with
// real transfer tokens of jobs claimed through the store: lookup order by trust scope, a pull
// request that cannot touch main's cache, immutability, LRU eviction with its files, uploads
// refused whole (digest, size), downloads with ranges, and who may call.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi } from '../../server/api/app.js';
import { createEventBus } from '../../server/events.js';
import { createBlobStore } from '../../server/files/blob-store.js';
import type { JobFilesOptions } from '../../server/files/job-files.js';
import { createTransferTokens } from '../../server/files/transfer-token.js';
import type { KilnService } from '../../server/service.js';
import type { NewRun } from '../../server/store/index.js';
import { T0, newRun, seeded, tempDir } from './store/fixtures.js';
import { testAccess } from '../helpers/access.js';

const ADMIN = 'admin-secret';
const AGENT = 'agent-secret';
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => {
    s.closeAllConnections();
    s.close(resolve);
  })));
});

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function setup({ cacheMaxBytes = 64 * 1024 * 1024, private: isPrivate = false, protectedBranches = null as string[] | null } = {}) {
  const ctx = seeded();
  const dir = tempDir();
  const files: JobFilesOptions = {
    transfer: createTransferTokens(randomBytes(32)),
    artifacts: createBlobStore(join(dir, 'artifacts')),
    caches: createBlobStore(join(dir, 'caches')),
    artifactMaxBytes: 1024 ** 3, artifactExpireMs: 86_400_000, cacheMaxBytes, protectedBranches,
  };
  const logged: Array<{ level: number; msg: string; [key: string]: unknown }> = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (line, _enc, done) => void (logged.push(JSON.parse(String(line))), done()) }));
  const app = createApi({
    store: ctx.store, bus: createEventBus(), service: {} as KilnService, logger,
    access: testAccess(ctx.store, { private: isPrivate, admin: ADMIN, agent: AGENT }), files,
  });
  const http = createAdaptorServer({ fetch: app.fetch }) as Server;
  servers.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  /** A claimed job of a new run: its id, lease and transfer token. */
  const job = (over: Partial<NewRun> = {}) => {
    const run = ctx.store.runs.createRun(newRun(ctx.repo.id, over));
    const id = run.jobs[0]!.id;
    const claim = ctx.store.leases.claimJob(id, ctx.agents[0]!.id, T0, 3_600_000)!;
    return { id, lease: claim.token, token: files.transfer.issue(id, claim.token) };
  };
  const call = async (method: string, path: string, token: string | null, init: { body?: Buffer; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${url}${path}`, {
      method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
      ...(init.body ? { body: init.body } : {}),
    });
    const type = response.headers.get('content-type') ?? '';
    const body: any = type.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
    return { status: response.status, body, headers: response.headers };
  };
  type Job = ReturnType<typeof job>;
  const lookup = async (j: Job, key: string, ...restore: string[]) => {
    const query = new URLSearchParams([['key', key], ...restore.map((r): [string, string] => ['restore_key', r])]);
    return call('GET', `/api/jobs/${j.id}/cache?${query}`, j.token);
  };
  const save = (j: Job, key: string, bytes: Buffer, digest = sha(bytes)) =>
    call('PUT', `/api/jobs/${j.id}/cache?key=${encodeURIComponent(key)}`, j.token, { body: bytes, headers: { 'x-kiln-sha256': digest } });
  const download = (j: Job, id: number, headers: Record<string, string> = {}) => call('GET', `/api/caches/${id}`, j.token, { headers });
  const stored = () => files.caches.digests().sort();
  const partials = () => readdirSync(join(files.caches.dir, 'tmp'));
  const pr = (number: number, branch = 'main'): Partial<NewRun> => ({
    event: 'pull_request', ref: `refs/pull/${number}/head`, branch,
    pullRequest: { number, sourceBranch: branch, targetBranch: 'main', fromFork: true },
  });
  const branch = (name: string): Partial<NewRun> => ({ ref: `refs/heads/${name}`, branch: name });
  return { ...ctx, files, url, logged, job, call, lookup, save, download, stored, partials, pr, branch };
}

const MAIN_BYTES = Buffer.from('main bytes');

describe('cache lookup', () => {
  it('finds the exact key, else the newest entry of the first restore prefix that matches, else nothing', async () => {
    const s = await setup();
    const main = s.job();
    expect((await s.save(main, 'deps-old', Buffer.from('old'))).status).toBe(201);
    s.clock.advance(1000);
    const saved = await s.save(main, 'deps-new', Buffer.from('new'));
    expect(saved).toMatchObject({ status: 201, body: { entry: { key: 'deps-new', scope: '', size: 3, sha256: sha(Buffer.from('new')), url: `/api/caches/${saved.body.entry.id}` } } });
    const next = s.job();
    expect((await s.lookup(next, 'deps-old', 'deps-')).body).toMatchObject({ entry: { key: 'deps-old', exact: true, prefix: null } });
    expect((await s.lookup(next, 'deps-zzz', 'nope-', 'deps-')).body).toMatchObject({ entry: { key: 'deps-new', exact: false, prefix: 'deps-', size: 3 } });
    expect(await s.lookup(next, 'other', 'nope-')).toMatchObject({ status: 200, body: { entry: null } });
  });

  it('reads the job\'s own scope before the protected one, and a hit marks the entry used', async () => {
    const s = await setup();
    await s.save(s.job(), 'deps-1', MAIN_BYTES);
    s.clock.advance(1000);
    const feature = s.job(s.branch('feature'));
    const own = (await s.save(feature, 'deps-2', Buffer.from('feature bytes'))).body.entry;
    expect(own.scope).toBe('branch:feature');
    s.clock.advance(5000);
    const hit = await s.lookup(s.job(s.branch('feature')), 'deps-3', 'deps-');
    expect(hit.body.entry).toMatchObject({ id: own.id, prefix: 'deps-', last_used_at: new Date(T0 + 6000).toISOString() });
    expect(s.store.caches.getCache(own.id)?.lastUsedAt).toBe(new Date(T0 + 6000).toISOString());
  });

  it('lets a feature branch read main\'s entry, but main never reads the branch\'s', async () => {
    const s = await setup();
    const mainEntry = (await s.save(s.job(), 'deps-1', MAIN_BYTES)).body.entry;
    const feature = s.job(s.branch('feature'));
    expect((await s.lookup(feature, 'deps-2', 'deps-')).body.entry).toMatchObject({ id: mainEntry.id, exact: false });
    const download = await s.download(feature, mainEntry.id);
    expect(download.status).toBe(200);
    expect(download.body).toEqual(MAIN_BYTES);
    s.clock.advance(1000);
    const branchEntry = (await s.save(feature, 'deps-2', Buffer.from('branch bytes'))).body.entry;
    const main = s.job();
    expect((await s.lookup(main, 'deps-2', 'deps-')).body.entry).toMatchObject({ id: mainEntry.id, key: 'deps-1', prefix: 'deps-' });
    expect(await s.download(main, branchEntry.id)).toMatchObject({ status: 403, body: { error: `job ${main.id} may not read cache ${branchEntry.id}` } });
  });
});

describe('a pull request', () => {
  it('cannot write or replace main\'s cache: it saves into pr:N, and main still restores its own bytes', async () => {
    const s = await setup();
    const mainEntry = (await s.save(s.job(), 'deps-1', MAIN_BYTES)).body.entry;
    // A fork's pull request from a branch it named main, writing other bytes under main's key.
    const evil = s.job(s.pr(9));
    const poisoned = await s.save(evil, 'deps-1', Buffer.from('poison'));
    expect(poisoned).toMatchObject({ status: 201, body: { entry: { scope: 'pr:9', key: 'deps-1' } } });
    expect((await s.lookup(evil, 'deps-1')).body.entry).toMatchObject({ id: poisoned.body.entry.id, exact: true });
    const main = s.job();
    const hit = await s.lookup(main, 'deps-1', 'deps-');
    expect(hit.body.entry).toMatchObject({ id: mainEntry.id, scope: '', exact: true, sha256: sha(MAIN_BYTES) });
    expect((await s.download(main, mainEntry.id)).body).toEqual(MAIN_BYTES);
    // Nor does another pull request see it.
    expect((await s.lookup(s.job(s.pr(10, 'feature')), 'deps-1')).body.entry).toMatchObject({ id: mainEntry.id });
    expect(await s.download(s.job(s.pr(10, 'feature')), poisoned.body.entry.id)).toMatchObject({ status: 403 });
  });
});

describe('saving a cache', () => {
  it('answers 409 for a key that exists in the job\'s scope and keeps the entry as it was', async () => {
    const s = await setup();
    const first = (await s.save(s.job(), 'deps-1', MAIN_BYTES)).body.entry;
    const again = await s.save(s.job(), 'deps-1', Buffer.from('other bytes'));
    expect(again).toMatchObject({ status: 409, body: { error: 'cache "deps-1" exists (caches are immutable: save under a new key)' } });
    expect(again.headers.get('connection')).toBe('close');
    expect(s.store.caches.getCache(first.id)?.sha256).toBe(sha(MAIN_BYTES));
    expect(s.stored()).toEqual([sha(MAIN_BYTES)]);
    expect(s.logged.map((l) => l.msg)).toEqual(['cache saved']);
    expect(s.logged[0]).toMatchObject({ key: 'deps-1', scope: '', repo: 'web', size: '10 bytes' });
  });

  it('evicts the least recently used entries past cache_max, files too; a shared file stays until its last entry goes', async () => {
    const s = await setup({ cacheMaxBytes: 250 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((ch) => Buffer.alloc(100, ch));
    const main = s.job();
    const ea = (await s.save(main, 'a', a!)).body.entry;
    s.clock.advance(1000);
    const eb = (await s.save(main, 'b', b!)).body.entry;
    s.clock.advance(1000);
    // The same archive under a pull request's scope: one file, counted once (200 bytes in all).
    const shared = (await s.save(s.job(s.pr(3)), 'b', b!)).body.entry;
    expect(s.store.caches.totalCacheBytes()).toBe(200);
    s.clock.advance(1000);
    await s.lookup(s.job(), 'a'); // a is used again: b's two entries are now the oldest
    s.clock.advance(1000);
    expect((await s.save(main, 'c', c!)).status).toBe(201);
    // 300 > 250: b goes (main's entry first, then the pull request's), and with both its file.
    expect(s.store.caches.getCache(eb.id)).toBeNull();
    expect(s.store.caches.getCache(shared.id)).toBeNull();
    expect(s.stored()).toEqual([sha(a!), sha(c!)].sort());
    expect(s.store.caches.getCache(ea.id)).not.toBeNull();
    expect(s.logged.filter((l) => l.msg === 'caches evicted')).toEqual([expect.objectContaining({ evicted: 2, freed: '100 bytes', maxBytes: '250 bytes' })]);

    // With the file shared: evicting one of its entries keeps the file for the other.
    s.clock.advance(1000);
    const again = (await s.save(s.job(s.pr(4)), 'a', a!)).body.entry; // a's file, second entry
    s.clock.advance(1000);
    // a + c + d = 300: main's a goes first, but its file stays (the pull request's entry has it),
    // so the total is still 300 and c goes next.
    expect((await s.save(main, 'd', d!)).status).toBe(201);
    expect(s.store.caches.getCache(ea.id)).toBeNull();
    expect(s.store.caches.leastRecentlyUsedCaches(10).map((e) => e.key)).toEqual(['a', 'd']);
    expect(s.store.caches.getCache(again.id)).not.toBeNull();
    expect(s.stored()).toEqual([sha(a!), sha(d!)].sort());
    expect(s.store.caches.totalCacheBytes()).toBe(200);
  });

  it('refuses an archive whose digest is not the announced one: 400, no entry, no file', async () => {
    const s = await setup();
    const main = s.job();
    const bad = await s.save(main, 'deps-1', MAIN_BYTES, sha(Buffer.from('something else')));
    expect(bad).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^cache "deps-1": the upload's sha256 is [0-9a-f]{64}, not [0-9a-f]{64} as announced$/) } });
    expect(s.stored()).toEqual([]);
    expect(s.partials()).toEqual([]);
    expect((await s.lookup(main, 'deps-1')).body).toEqual({ entry: null });
  });

  it('answers 413 at once to a Content-Length over cache_max, and stops a chunked body at the limit', async () => {
    const s = await setup({ cacheMaxBytes: 1000 });
    const main = s.job();
    // Headers only: the answer comes before any byte of the body is sent.
    const early = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(`${s.url}/api/jobs/${main.id}/cache?key=big`, {
        method: 'PUT', headers: { authorization: `Bearer ${main.token}`, 'x-kiln-sha256': 'a'.repeat(64), 'content-length': String(10 ** 12) },
      }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(early.status).toBe(413);
    expect(JSON.parse(early.text)).toEqual({ error: 'cache "big" is over server.cache_max (1000 bytes)' });
    const big = Buffer.alloc(5000, 'x');
    const chunked = await fetch(`${s.url}/api/jobs/${main.id}/cache?key=big`, {
      method: 'PUT', duplex: 'half', headers: { authorization: `Bearer ${main.token}`, 'x-kiln-sha256': sha(big) },
      body: new ReadableStream({ start(controller) { controller.enqueue(big); controller.close(); } }),
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(s.stored()).toEqual([]);
    expect(s.partials()).toEqual([]);
  });

  it('keeps nothing of an upload cut short', async () => {
    const s = await setup();
    const main = s.job();
    const whole = randomBytes(256 * 1024);
    const abort = new AbortController();
    const cut = fetch(`${s.url}/api/jobs/${main.id}/cache?key=cut`, {
      method: 'PUT', duplex: 'half', signal: abort.signal, headers: { authorization: `Bearer ${main.token}`, 'x-kiln-sha256': sha(whole) },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(whole.subarray(0, 64 * 1024));
          setTimeout(() => abort.abort(), 100);
        },
      }),
    } as RequestInit);
    await expect(cut).rejects.toThrow();
    for (let i = 0; i < 50 && s.partials().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(s.partials()).toEqual([]);
    expect(s.stored()).toEqual([]);
    expect((await s.lookup(main, 'cut')).body).toEqual({ entry: null });
    expect(s.logged.map((l) => [l.level, l.msg])).toEqual([[30, 'cache upload cut short']]);
    // The same upload again, whole, is taken.
    expect((await s.save(main, 'cut', whole)).status).toBe(201);
  });

  it('records nothing, and keeps no file, when the job\'s lease ends while the body comes in', async () => {
    const s = await setup();
    const main = s.job();
    const bytes = randomBytes(64 * 1024);
    let send!: ReadableStreamDefaultController<Uint8Array>;
    const answer = fetch(`${s.url}/api/jobs/${main.id}/cache?key=late`, {
      method: 'PUT', duplex: 'half', headers: { authorization: `Bearer ${main.token}`, 'x-kiln-sha256': sha(bytes) },
      body: new ReadableStream({ start: (controller) => void (send = controller) }),
    } as RequestInit);
    send.enqueue(bytes.subarray(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.store.leases.completeJob(main.id, main.lease, { status: 'cancelled' }, T0 + 1)).toBe(true);
    send.enqueue(bytes.subarray(1000));
    send.close();
    expect((await answer).status).toBe(401);
    expect(s.store.caches.leastRecentlyUsedCaches(10)).toEqual([]);
    expect(s.stored()).toEqual([]);
  });

  it('streams a body far over the API\'s 1 MiB limit to disk', async () => {
    const s = await setup();
    const big = randomBytes(5 * 1024 * 1024);
    const saved = await s.save(s.job(), 'big', big);
    expect(saved).toMatchObject({ status: 201, body: { entry: { size: big.length, sha256: sha(big) } } });
    expect(s.stored()).toEqual([sha(big)]);
  });

  it('refuses bad keys and digests in one line and changes nothing', async () => {
    const s = await setup();
    const main = s.job();
    const put = (query: string, headers: Record<string, string> = { 'x-kiln-sha256': sha(MAIN_BYTES) }) =>
      s.call('PUT', `/api/jobs/${main.id}/cache${query}`, main.token, { body: MAIN_BYTES, headers });
    const keyError = 'key: a cache key is 1 to 512 characters without control characters';
    expect(await put('')).toMatchObject({ status: 400, body: { error: 'key: give the cache key (?key=)' } });
    expect(await put('?key=')).toMatchObject({ status: 400, body: { error: keyError } });
    expect(await put(`?key=${'k'.repeat(513)}`)).toMatchObject({ status: 400, body: { error: keyError } });
    expect(await put('?key=a%0Ab')).toMatchObject({ status: 400, body: { error: keyError } });
    expect(await put('?key=ok', {})).toMatchObject({ status: 400, body: { error: 'X-Kiln-Sha256: give the archive\'s sha256 (64 hex digits)' } });
    expect(await put('?key=ok', { 'x-kiln-sha256': 'abc' })).toMatchObject({ status: 400 });
    expect(await s.call('GET', `/api/jobs/${main.id}/cache?key=ok&restore_key=`, main.token)).toMatchObject({ status: 400, body: { error: 'restore_key: a cache key is 1 to 512 characters without control characters' } });
    const many = Array.from({ length: 33 }, (_, i) => `restore_key=p${i}`).join('&');
    expect(await s.call('GET', `/api/jobs/${main.id}/cache?key=ok&${many}`, main.token)).toMatchObject({ status: 400, body: { error: 'restore_key: at most 32 restore keys' } });
    expect(await put(`?key=${'k'.repeat(512)}`)).toMatchObject({ status: 201 });
    expect(s.store.caches.leastRecentlyUsedCaches(10)).toHaveLength(1);
  });
});

describe('downloading a cache', () => {
  it('streams the archive with its length and digest, and one range as 206; past the end 416', async () => {
    const s = await setup();
    const bytes = Buffer.from('0123456789');
    const entry = (await s.save(s.job(), 'deps', bytes)).body.entry;
    const main = s.job();
    const whole = await s.download(main, entry.id);
    expect(whole.status).toBe(200);
    expect(whole.body).toEqual(bytes);
    expect(Object.fromEntries(['content-length', 'etag', 'x-kiln-sha256', 'accept-ranges', 'content-type'].map((h) => [h, whole.headers.get(h)]))).toEqual({
      'content-length': '10', etag: `"${sha(bytes)}"`, 'x-kiln-sha256': sha(bytes), 'accept-ranges': 'bytes', 'content-type': 'application/gzip',
    });
    const part = await s.download(main, entry.id, { range: 'bytes=2-5' });
    expect([part.status, part.body.toString(), part.headers.get('content-range'), part.headers.get('content-length')]).toEqual([206, '2345', 'bytes 2-5/10', '4']);
    const tail = await s.download(main, entry.id, { range: 'bytes=7-' });
    expect([tail.status, tail.body.toString()]).toEqual([206, '789']);
    const suffix = await s.download(main, entry.id, { range: 'bytes=-3' });
    expect([suffix.status, suffix.body.toString()]).toEqual([206, '789']);
    const past = await s.download(main, entry.id, { range: 'bytes=10-20' });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, 'bytes */10']);
    const several = await s.download(main, entry.id, { range: 'bytes=0-1,4-5' });
    expect([several.status, several.body]).toEqual([200, bytes]);
    expect(await s.download(main, 999_999)).toMatchObject({ status: 404, body: { error: 'no cache 999999' } });
  });
});

describe('who may call the cache routes', () => {
  it('only the job\'s own live transfer token: absent, wrong, stale or admin 401; another job\'s 403', async () => {
    const s = await setup();
    const main = s.job();
    const entry = (await s.save(main, 'deps', MAIN_BYTES)).body.entry;
    const other = s.job();
    const ended = s.job();
    expect(s.store.leases.completeJob(ended.id, ended.lease, { status: 'success' }, T0 + 1)).toBe(true);
    const forged = `${main.id}.${'A'.repeat(43)}`;
    const routes = (token: string | null) => [
      s.call('GET', `/api/jobs/${main.id}/cache?key=deps`, token),
      s.call('PUT', `/api/jobs/${main.id}/cache?key=new`, token, { body: MAIN_BYTES, headers: { 'x-kiln-sha256': sha(MAIN_BYTES) } }),
    ];
    for (const token of [null, 'garbage', forged, ADMIN, AGENT]) {
      for (const answer of await Promise.all(routes(token))) expect(answer, String(token)).toMatchObject({ status: 401, body: { error: expect.stringContaining('transfer token') } });
      expect((await s.call('GET', `/api/caches/${entry.id}`, token)).status, String(token)).toBe(401);
    }
    // A job that ended: its token is worth nothing.
    expect((await s.call('GET', `/api/jobs/${ended.id}/cache?key=deps`, ended.token)).status).toBe(401);
    expect((await s.download(ended, entry.id)).status).toBe(401);
    for (const answer of await Promise.all(routes(other.token))) {
      expect(answer).toMatchObject({ status: 403, body: { error: `this token belongs to job ${other.id}, not job ${main.id}` } });
    }
    // Another repo's job sees nothing of this repo's caches.
    const api = s.store.repos.addRepo({ name: 'api', path: '/srv/git/api' });
    const run = s.store.runs.createRun(newRun(api.id));
    const claim = s.store.leases.claimJob(run.jobs[0]!.id, s.agents[0]!.id, T0, 60_000)!;
    expect((await s.call('GET', `/api/caches/${entry.id}`, s.files.transfer.issue(run.jobs[0]!.id, claim.token))).status).toBe(403);
    expect(s.store.caches.leastRecentlyUsedCaches(10)).toHaveLength(1);
  });

  it('on a private server, lets a valid transfer token reach its routes and no others', async () => {
    const s = await setup({ private: true });
    const main = s.job();
    const saved = await s.save(main, 'deps', MAIN_BYTES);
    expect(saved.status).toBe(201);
    expect((await s.lookup(main, 'deps')).body.entry).toMatchObject({ exact: true });
    expect((await s.download(main, saved.body.entry.id)).body).toEqual(MAIN_BYTES);
    expect(await s.call('GET', `/api/jobs/${main.id}`, main.token)).toMatchObject({ status: 401, body: { error: 'unknown, expired or revoked token' } });
    expect(await s.call('GET', `/api/caches/${saved.body.entry.id}`, 'garbage')).toMatchObject({ status: 401, body: { error: "this needs a job's transfer token (the assignment carries it; it ends with the job)" } });
  });
});
