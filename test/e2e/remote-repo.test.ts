// End to end: a repo registered by URL on a real git server on loopback (git http-backend
// behind token auth, test/helpers/git-server.ts), fetched with its token sent as a header,
// its settings shown as set/unset only, and none of its secrets in clear in the data folder.
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderBytes } from '../helpers/files.js';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { startRecorder } from '../helpers/recorder.js';
import { eventually, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const TOKEN = 'glpat-remote-token-0123456789';
const HOOK_SECRET = 'hook-secret-0123456789';
const FORGE_TOKEN = 'forge-status-token-0123456789';
let remote: GitServer;
let work: TestRepo;
let server: ServerProcess;

beforeAll(async () => {
  await isolateGit();
  remote = await startGitServer({ root: await makeTempDir('kiln-remote-'), token: TOKEN });
  remote.createRepo('web');
  work = await createRepo();
  await work.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo built from the remote }]\n' });
  await git(work.path, 'push', '--quiet', `http://x:${TOKEN}@${remote.url('web').slice('http://'.length)}`, 'HEAD:refs/heads/main');
  server = await startServer();
});
afterAll(async () => {
  await killAll();
  await remote.close();
  await removeTempDirs();
});


describe('a remote repo', () => {
  it('with a wrong token is refused at registration in one line, and left unregistered', async () => {
    const answer = await server.api('POST', '/api/repos', { name: 'wrong', url: remote.url('web'), credentials: { token: 'not-the-token' } });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/^cannot read the repository: .*(401|Authentication failed|could not read Username)/);
    expect(answer.body.error).not.toContain('not-the-token');
    expect((await server.api('GET', '/api/repos/wrong')).status).toBe(404);
  });

  it('is registered by URL with a token, fetched with it as a header, built, and shows which settings are set, never their values', async () => {
    const answer = await server.api('POST', '/api/repos', {
      name: 'web', url: remote.url('web'), poll: '1m', webhook_secret: HOOK_SECRET,
      credentials: { token: TOKEN }, forge: { kind: 'gitlab', api_url: 'http://127.0.0.1:9/api/v4', token: FORGE_TOKEN },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      name: 'web', url: remote.url('web'), poll_ms: 60_000, webhook_secret: true, webhook: { insecure: false }, credentials: 'token',
      forge: { kind: 'gitlab', api_url: 'http://127.0.0.1:9/api/v4', token: true },
    });
    expect(JSON.stringify(answer.body)).not.toMatch(new RegExp(`${TOKEN}|${HOOK_SECRET}|${FORGE_TOKEN}`));
    // Every request kiln made carried the token, as a Basic header (never in the URL).
    const fetches = remote.requests.filter((r) => r.authorization?.startsWith('Basic') && Buffer.from(r.authorization.slice(6), 'base64').toString() === `x-access-token:${TOKEN}`);
    expect(fetches.length).toBeGreaterThan(0);
    expect(remote.requests.every((r) => !r.path.includes(TOKEN))).toBe(true);

    await startAgent(server);
    const sha = (await git(work.path, 'rev-parse', 'HEAD')).trim();
    const run = await server.api('POST', '/api/repos/web/runs', { ref: 'main' });
    expect(run.status).toBe(201);
    expect(run.body.sha).toBe(sha);
    expect((await runEnded(server, run.body.id)).status).toBe('success');

    const got = await server.api('GET', '/api/repos/web');
    expect(got.body).toMatchObject({ credentials: 'token', webhook_secret: true });
    for (const value of [TOKEN, HOOK_SECRET, FORGE_TOKEN]) expect(folderBytes(server.dataDir).includes(value), value).toBe(false);
  });

  it('takes changes with PATCH: null clears a setting, bad input changes nothing', async () => {
    const patched = await server.api('PATCH', '/api/repos/web', { poll: '5m', webhook_secret: null, forge: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ poll_ms: 300_000, webhook_secret: false, credentials: 'token', forge: null });
    for (const bad of [{ poll: '0s' }, { credentials: { token: '' } }, { forge: { kind: 'svn', api_url: 'http://x', token: 't' } }, { unknown: 1 }]) {
      const answer = await server.api('PATCH', '/api/repos/web', bad);
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body.error).toMatch(/^[^\n]+$/);
    }
    expect((await server.api('GET', '/api/repos/web')).body).toMatchObject({ poll_ms: 300_000, webhook_secret: false, credentials: 'token' });
    expect((await server.api('PATCH', '/api/repos/web', { poll: '5m' }, null)).status).toBe(401);
  });

  it('refuses URLs of transports a remote never needs, and settings on a folder repo', async () => {
    for (const url of ['file:///etc', 'ext::sh -c id', '/srv/repo', 'ftp://host/repo.git']) {
      const answer = await server.api('POST', '/api/repos', { name: 'bad', url });
      expect(answer.status, url).toBe(400);
      expect(answer.body.error).toBe('url: a repo url is https://, http://, ssh:// or user@host:path');
    }
    const local = await server.api('POST', '/api/repos', { name: 'local', path: work.path });
    expect(local.status).toBe(201);
    expect((await server.api('PATCH', '/api/repos/local', { poll: '1m' })).body.error).toMatch(/is a folder on this server/);
  });
});

describe('a remote repo in kiln.yml', () => {
  it('takes its secrets by reference (environment variables), registers at start, and follows kiln.yml at every start', async () => {
    const config = (poll: string) => `repos:\n  - name: fromfile\n    url: ${remote.url('web')}\n    poll: ${poll}\n    webhook_secret_env: WEB_HOOK_SECRET\n    credentials: { token_env: WEB_TOKEN }\n    forge: { kind: github, api_url: "http://127.0.0.1:9", token_env: WEB_STATUS_TOKEN }\npools: []\n`;
    const env = { WEB_TOKEN: TOKEN, WEB_HOOK_SECRET: HOOK_SECRET, WEB_STATUS_TOKEN: FORGE_TOKEN };
    const first = await startServer({ config: config('2m'), env });
    const repo = await first.api('GET', '/api/repos/fromfile');
    expect(repo.body).toMatchObject({ url: remote.url('web'), poll_ms: 120_000, credentials: 'token', webhook_secret: true, forge: { kind: 'github', token: true } });
    await first.kill();
    const again = await startServer({ dataDir: first.dataDir, config: config('3m'), env });
    expect((await again.api('GET', '/api/repos/fromfile')).body).toMatchObject({ poll_ms: 180_000 });
    await again.kill();
    for (const value of [TOKEN, HOOK_SECRET, FORGE_TOKEN]) expect(folderBytes(first.dataDir).includes(value), value).toBe(false);
  });

  it('whose variable is not set stops the start, naming the file, the key and the variable', async () => {
    const config = `repos:\n  - name: fromfile\n    url: ${remote.url('web')}\n    credentials: { token_env: KILN_TEST_UNSET_TOKEN }\npools: []\n`;
    await expect(startServer({ config })).rejects.toThrow(/kiln server: .*kiln\.yml: repos\[0\]\.credentials\.token_env: KILN_TEST_UNSET_TOKEN is not set in the environment/);
  });
});

describe('webhooks', () => {
  const hex = (body: string, secret = HOOK_SECRET) => createHmac('sha256', secret).update(body).digest('hex');
  /** Posts a GitHub push delivery for `after` on main, signed with `secret`. */
  async function githubPush(after: string, delivery: string, secret = HOOK_SECRET) {
    const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after, repository: { full_name: 'octo/web' } });
    const response = await fetch(`${server.url}/hooks/hooked`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${hex(body, secret)}` },
    });
    return { status: response.status, body: await response.json() as any };
  }
  const runsOf = async () => (await server.api('GET', '/api/repos/hooked/runs')).body as Array<{ id: number; sha: string }>;

  it('a signed push starts one run of the commit git has; a redelivery, a second hook for the same push and a forged sha start none', async () => {
    expect((await server.api('POST', '/api/repos', { name: 'hooked', url: remote.url('web'), webhook_secret: HOOK_SECRET, credentials: { token: TOKEN } })).status).toBe(201);
    const sha = await work.commit({ 'README.md': 'hooked\n' });
    await git(work.path, 'push', '--quiet', `http://x:${TOKEN}@${remote.url('web').slice('http://'.length)}`, 'HEAD:refs/heads/main');

    const first = await githubPush(sha, 'delivery-1');
    expect(first).toMatchObject({ status: 202, body: { status: 'accepted' } });
    const run = await eventually(async () => (await runsOf()).find((r) => r.sha === sha), 5000, 'the run of the pushed commit');
    const deliveries = await eventually(async () => {
      const list = (await server.api('GET', '/api/repos/hooked/hooks')).body as Array<{ status: string; run_ids: number[]; result: string }>;
      return list[0]?.status === 'done' ? list : null;
    }, 5000, 'the delivery done');
    expect(deliveries[0]).toMatchObject({ status: 'done', run_ids: [run.id], result: expect.stringContaining('refs/heads/main: run #') });

    expect(await githubPush(sha, 'delivery-1')).toMatchObject({ status: 200, body: { status: 'duplicate', delivery: first.body.delivery } });
    expect(await githubPush(sha, 'delivery-2')).toMatchObject({ status: 202 });
    expect(await githubPush('1234567890abcdef1234567890abcdef12345678', 'delivery-3')).toMatchObject({ status: 202 });
    const later = await eventually(async () => {
      const list = (await server.api('GET', '/api/repos/hooked/hooks')).body as Array<{ status: string; result: string }>;
      return list.length === 3 && list.every((d) => d.status === 'done') ? list : null;
    }, 5000, 'the later deliveries done');
    expect(later[1]!.result).toMatch(/no new run/);
    expect(later[0]!.result).toMatch(/1234567890ab is not on the remote \(it is at .*\): nothing started/);
    expect((await runsOf()).filter((r) => r.sha === sha)).toHaveLength(1);
    expect(await runsOf()).toHaveLength(1);
  });

  it('a wrong signature, an unknown repo, a body that is not JSON or not the event, or over 25 MiB is refused in one line and recorded nowhere', async () => {
    const before = (await server.api('GET', '/api/repos/hooked/hooks')).body.length;
    expect(await githubPush('a'.repeat(40), 'delivery-9', 'a guessed secret')).toEqual({ status: 401, body: { error: "the GitHub signature does not match this repo's webhook secret" } });
    const post = (repo: string, body: string, event = 'push') => fetch(`${server.url}/hooks/${repo}`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': 'd', 'x-hub-signature-256': `sha256=${hex(body)}` },
    }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
    expect(await post('nope', '{}')).toEqual({ status: 404, body: { error: 'no repo nope' } });
    expect(await post('hooked', 'not json')).toEqual({ status: 400, body: { error: 'the body is not JSON' } });
    expect(await post('hooked', JSON.stringify({ zen: 'hi' }))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^not a push event: ref: /) } });
    // The server answers 413 once the body passes 25 MiB, before the client has sent it all.
    const huge = await new Promise<number>((resolve, reject) => {
      let answered = false;
      const request = httpRequest(`${server.url}/hooks/hooked`, { method: 'POST', headers: { 'x-github-event': 'push', 'content-length': String(26 * 1024 * 1024) } }, (r) => {
        answered = true;
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      // 1 MiB at a time, until the server answers (it stops reading at 25 MiB).
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      let sent = 0;
      const more = () => {
        while (!answered && sent < 26) {
          sent++;
          if (!request.write(chunk)) return void request.once('drain', more);
        }
        if (!answered) request.end();
      };
      more();
    });
    expect(huge).toBe(413);
    expect((await server.api('GET', '/api/repos/hooked/hooks')).body).toHaveLength(before);
    // A ping is taken, recorded, and starts nothing.
    expect(await post('hooked', JSON.stringify({ zen: 'Keep it logically awesome.' }), 'ping')).toMatchObject({ status: 202, body: { status: 'ignored' } });
  });
});

describe('polling', () => {
  const push = () => git(work.path, 'push', '--quiet', '--force', `http://x:${TOKEN}@${remote.url('web').slice('http://'.length)}`, 'HEAD:refs/heads/main');
  const runOf = async (repo: string, sha: string) => ((await server.api('GET', `/api/repos/${repo}/runs`)).body as Array<{ sha: string }>).find((r) => r.sha === sha);

  it('asks ls-remote first and fetches only when a ref moved; a push no hook told of becomes a run', async () => {
    expect((await server.api('POST', '/api/repos', { name: 'polled', url: remote.url('web'), poll: '1s', credentials: { token: TOKEN } })).status).toBe(201);
    // Three quiet polls: ls-refs each time, no fetch.
    const polledBy = () => remote.requests.filter((r) => r.command !== null);
    const start = polledBy().length;
    const quiet = await eventually(() => {
      const since = polledBy().slice(start);
      return since.filter((r) => r.command === 'ls-refs').length >= 3 ? since : null;
    }, 15_000, 'three polls');
    expect(quiet.filter((r) => r.command === 'fetch')).toEqual([]);

    const sha = await work.commit({ 'polled.txt': 'no hook told of this\n' });
    await push();
    await eventually(() => runOf('polled', sha), 15_000, 'the run the poll found');
    expect(polledBy().slice(start).some((r) => r.command === 'fetch')).toBe(true);
    expect((await server.api('GET', '/api/repos/polled')).body.sync).toMatchObject({ synced_at: expect.any(String), error: null });
  });

  it('shows a failing remote with its last error and time, retries it with back-off, and keeps polling the others', async () => {
    expect((await server.api('POST', '/api/repos', { name: 'broken', url: remote.url('web'), poll: '1s', credentials: { token: TOKEN } })).status).toBe(201);
    expect((await server.api('PATCH', '/api/repos/broken', { credentials: { token: 'revoked-token' } })).status).toBe(200);
    const failing = await eventually(async () => {
      const repo = (await server.api('GET', '/api/repos')).body.find((r: { name: string }) => r.name === 'broken');
      return repo?.sync.error ? repo : null;
    }, 15_000, 'the error shown');
    expect(failing.sync.error).toMatch(/ls-remote failed: .*(401|Authentication failed|could not read Username)/);
    expect(failing.sync.error).not.toContain('revoked-token');
    expect(Date.parse(failing.sync.error_at)).toBeGreaterThan(Date.now() - 60_000);
    const page = await (await fetch(`${server.url}/repos/broken`)).text();
    expect(page).toMatch(/The last sync failed [^<]*ago: [^<]*ls-remote failed[^<]*kiln retries with back-off\./);

    // The other repo still polls: a new push becomes its run.
    const sha = await work.commit({ 'other.txt': 'still polled\n' });
    await push();
    await eventually(() => runOf('polled', sha), 15_000, 'the run of the repo that works');

    expect((await server.api('PATCH', '/api/repos/broken', { credentials: { token: TOKEN } })).status).toBe(200);
    await eventually(async () => ((await server.api('GET', '/api/repos/broken')).body.sync.error === null ? true : null), 20_000, 'the error cleared');
  });
});

describe('commit statuses', () => {
  it('reach the forge in order with its auth, survive the forge being down, and say so on the repo page meanwhile', async () => {
    const forge = await startRecorder();
    try {
      remote.createRepo('acme/site');
      const sha = (await git(work.path, 'rev-parse', 'HEAD')).trim();
      await git(work.path, 'push', '--quiet', `http://x:${TOKEN}@${remote.url('acme/site').slice('http://'.length)}`, 'HEAD:refs/heads/main');
      expect((await server.api('POST', '/api/repos', {
        name: 'site', url: remote.url('acme/site'), credentials: { token: TOKEN }, forge: { kind: 'github', api_url: forge.url, token: FORGE_TOKEN },
      })).status).toBe(201);
      forge.answer(503);
      const run = await server.api('POST', '/api/repos/site/runs', { ref: 'main' });
      expect((await runEnded(server, run.body.id)).status).toBe('success');
      await eventually(() => forge.requests.filter((r) => r.answered === 503).length >= 2 || null, 15_000, 'two failed sends');
      const page = await (await fetch(`${server.url}/repos/site`)).text();
      expect(page).toMatch(/A commit status could not be sent to github [^<]*: github answered 503[^<]*kiln retries with back-off\./);

      forge.answer(201);
      const sent = await eventually(() => {
        const ok = forge.requests.filter((r) => r.answered === 201);
        return ok.some((r) => JSON.parse(r.body).state === 'success') ? ok : null;
      }, 30_000, 'the statuses sent once the forge is back');
      for (const r of sent) {
        expect(r.method).toBe('POST');
        expect(r.path).toBe(`/repos/acme/site/statuses/${sha}`);
        expect(r.headers.authorization).toBe(`Bearer ${FORGE_TOKEN}`);
        expect(JSON.parse(r.body)).toMatchObject({ context: 'kiln/site', target_url: `${server.url}/runs/${run.body.id}` });
      }
      // In the order they happened, each once: pending (queued, running), then success.
      const states = sent.map((r) => JSON.parse(r.body).state as string);
      expect(states.at(-1)).toBe('success');
      expect(states.slice(0, -1).every((s) => s === 'pending')).toBe(true);
      expect(new Set(sent.map((r) => r.body)).size).toBe(sent.length);
    } finally {
      await forge.close();
    }
  });
});
