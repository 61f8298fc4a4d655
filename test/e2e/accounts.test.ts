// Users, roles, sessions and tokens on a real private server: the first admin made offline with
// `kiln user add --admin --data`, password logins (API and dashboard form) with a back-off,
// the dashboard's live updates through the session cookie, a developer's scoped token that can
// trigger but not touch secrets, revoked at once; and all of it in the audit log by name.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRepo, isolateGit, makeTempDir, removeTempDirs } from '../helpers/git.js';
import { ADMIN_TOKEN, KILN, killAll, kilnCli, startServer, type ServerProcess } from '../helpers/kiln.js';

const run = promisify(execFile);
const ALICE_PASSWORD = 'alice-password-1234';
const BOB_PASSWORD = 'bob-password-5678';
let server: ServerProcess;

/** `kiln …` with `input` on stdin. */
function kilnWithInput(args: string[], input: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [KILN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    child.stdin!.end(input);
  });
}

const cookieOf = (response: Response) => (response.headers.get('set-cookie') ?? '').split(';')[0]!;

async function login(name: string, password: string) {
  const response = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
  return { status: response.status, body: await response.json() as any, cookie: cookieOf(response) };
}

beforeAll(async () => {
  await isolateGit();
  const repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo building }]\n' });
  const dataDir = await makeTempDir('kiln-data-');
  // The first admin, before the server has ever run.
  const added = await kilnWithInput(['user', 'add', 'alice', '--admin', '--data', dataDir], `${ALICE_PASSWORD}\n`);
  expect(added).toMatchObject({ code: 0, stdout: 'added server admin alice\n' });
  server = await startServer({ dataDir, config: `repos:\n  - { name: web, path: ${JSON.stringify(repo.path)} }\npools: []\nserver:\n  private: true\n` });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('accounts', () => {
  it('logs the first admin in with a password, and refuses a wrong one, then guessing (429)', async () => {
    const alice = await login('alice', ALICE_PASSWORD);
    expect(alice).toMatchObject({ status: 200, body: { user: { name: 'alice', admin: true } } });
    expect(alice.cookie).toMatch(/^kiln_session=/);
    const me = await fetch(`${server.url}/api/me`, { headers: { cookie: alice.cookie } });
    expect(await me.json()).toMatchObject({ kind: 'user', name: 'alice', admin: true, via: 'session' });
    // A changing API call with the cookie needs the session's CSRF token.
    const noCsrf = await fetch(`${server.url}/api/users`, { method: 'POST', headers: { cookie: alice.cookie }, body: JSON.stringify({ name: 'eve' }) });
    expect(noCsrf.status).toBe(401);

    expect(await login('alice', 'wrong-password-0')).toMatchObject({ status: 401, body: { error: 'wrong user name or password' } });
    expect(await login('nobody', 'wrong-password-0')).toMatchObject({ status: 401, body: { error: 'wrong user name or password' } });
    for (let i = 0; i < 4; i++) await login('mallory', 'wrong-password-0');
    expect((await login('mallory', 'wrong-password-0')).status).toBe(401);
    expect(await login('mallory', 'wrong-password-0')).toMatchObject({ status: 429, body: { error: 'too many failed logins: wait 15 minutes' } });
  });

  it('gives a developer a session on the dashboard with live updates, and a run-scoped token that can trigger but not set secrets', async () => {
    const added = await kilnWithInput(['user', 'add', 'bob', '--group', 'ops'], BOB_PASSWORD, { KILN_SERVER: server.url, KILN_TOKEN: ADMIN_TOKEN });
    expect(added).toMatchObject({ code: 0, stdout: 'added user bob\n' });
    expect(await kilnCli(server, 'user', 'role', 'bob', 'web', 'developer')).toMatchObject({ code: 0, stdout: 'bob is developer on web\n' });

    // The dashboard's form: a private server's pages need the session.
    expect((await fetch(`${server.url}/`, { redirect: 'manual' })).status).toBe(303);
    const form = await fetch(`${server.url}/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ name: 'bob', password: BOB_PASSWORD, next: '/repos/web' }) });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe('/repos/web');
    const cookie = cookieOf(form);
    const page = await fetch(`${server.url}/repos/web`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('bob');
    expect(html).toContain('Run branch'); // a developer may run
    // Live updates on a private server, through the session cookie.
    const live = new WebSocket(`${server.url.replace('http', 'ws')}/api/events`, { headers: { cookie } });
    await new Promise<void>((resolve, reject) => { live.once('open', () => resolve()); live.once('error', reject); });
    live.close();
    const anonymous = new WebSocket(`${server.url.replace('http', 'ws')}/api/events`);
    expect(await new Promise((resolve) => { anonymous.once('unexpected-response', (_req, res) => resolve(res.statusCode)); anonymous.once('open', () => resolve('open')); })).toBe(401);

    const session = await login('bob', BOB_PASSWORD);
    const made = await fetch(`${server.url}/api/tokens`, {
      method: 'POST', headers: { cookie: session.cookie, 'x-kiln-csrf': session.body.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci', scope: 'run', repos: ['web'], expires_in: '30d' }),
    });
    expect(made.status).toBe(201);
    const token = await made.json() as { id: number; token: string; scope: string; expires_at: string };
    expect(token).toMatchObject({ scope: 'run', token: expect.stringMatching(/^kiln_[A-Za-z0-9_-]{43}$/) });
    expect(Date.parse(token.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const triggered = await server.api('POST', '/api/repos/web/runs', {}, token.token);
    expect(triggered.status).toBe(201);
    expect((await server.api('GET', `/api/runs/${triggered.body.id}`)).body).toMatchObject({ triggered_by: 'bob' });
    expect(await server.api('PUT', '/api/repos/web/secrets/DEPLOY', { value: 'deploy-key-123' }, token.token)).toMatchObject({
      status: 403, body: { error: 'bob may not change settings or secrets on web: that needs the maintainer role (role: developer, token scope: run)' },
    });
    expect((await server.api('GET', '/api/users', undefined, token.token)).status).toBe(403);

    const listed = await kilnCli(server, 'token', 'list', '--user', 'bob');
    expect(listed.stdout).toMatch(new RegExp(`^${token.id}\\tbob\\tci\\trun\\tweb\\texpires \\S+\\tlast used 20`));
    const revoked = await run(process.execPath, [KILN, 'token', 'revoke', String(token.id)], { env: { ...process.env, KILN_SERVER: server.url, KILN_TOKEN: ADMIN_TOKEN } });
    expect(revoked.stdout).toBe(`revoked token ${token.id}\n`);
    expect(await server.api('POST', '/api/repos/web/runs', {}, token.token)).toMatchObject({ status: 401, body: { error: 'unknown, expired or revoked token' } });
  });

  it('creates a token on the command line, shown once, and records who did what in the audit log', async () => {
    const made = await kilnCli(server, 'token', 'create', 'deploy', '--scope', 'read', '--user', 'bob', '--expires', 'never');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^kiln_\S+\n$/);
    expect(made.stderr).toContain('never expires; it is shown only now');
    expect((await server.api('GET', '/api/me', undefined, made.stdout.trim())).body).toMatchObject({ name: 'bob', token: { name: 'deploy', scope: 'read' } });

    const audit = (await server.api('GET', '/api/audit?limit=200')).body.entries as Array<{ actor: string; action: string; target: string; outcome: string }>;
    const seen = audit.map((e) => `${e.actor} ${e.action} ${e.target} ${e.outcome}`);
    const expected = [
      'alice login user/alice ok', 'anonymous login user/alice refused', 'anonymous login user/mallory refused',
      'admin token user.add user/bob ok', 'admin token user.role user/bob/role/web ok', 'bob login user/bob ok',
      'bob token.create user/bob/token/ci ok', 'bob run.trigger repo/web ok', 'bob secret.set repo/web/secret/DEPLOY refused',
      'admin token token.revoke user/bob/token/ci ok', 'unknown token run.trigger repo/web refused', 'admin token token.create user/bob/token/deploy ok',
    ];
    expect(expected.filter((line) => !seen.includes(line))).toEqual([]);
    // Passwords and tokens are never in the database in clear.
    expect(JSON.stringify(audit)).not.toContain(BOB_PASSWORD);
  });
});
