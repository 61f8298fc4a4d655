// Secrets through the API of a real server process: both levels, their scopes, who may call,
// and bad input refused in one line with nothing changed. Values are never read back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs } from '../helpers/git.js';
import { ADMIN_TOKEN, AGENT_TOKEN, killAll, startServer, type ServerProcess } from '../helpers/kiln.js';

const VALUE = 'api-secret-value-5a5a';
let server: ServerProcess;

beforeAll(async () => {
  await isolateGit();
  const repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo building }]\n' });
  server = await startServer({ repos: { web: repo.path } });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('the secrets API', () => {
  it('needs the admin token for every secret route: 401 without one, 403 with the agent token', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/api/secrets'], ['PUT', '/api/secrets/KEY', { value: VALUE }], ['DELETE', '/api/secrets/KEY'],
      ['GET', '/api/repos/web/secrets'], ['GET', '/api/repos/web/secrets/KEY'],
      ['PUT', '/api/repos/web/secrets/KEY', { value: VALUE }], ['DELETE', '/api/repos/web/secrets/KEY'],
    ];
    for (const [method, path, body] of routes) {
      expect(await server.api(method, path, body, null), `${method} ${path}`).toMatchObject({ status: 401 });
      expect(await server.api(method, path, body, AGENT_TOKEN), `${method} ${path}`).toMatchObject({ status: 403 });
    }
    expect((await server.api('GET', '/api/secrets')).body).toEqual([]);
    expect((await server.api('GET', '/api/repos/web/secrets')).body).toEqual([]);
  });

  it('writes, lists and deletes server-level secrets with their scopes, never their values', async () => {
    const put = await server.api('PUT', '/api/secrets/DEPLOY_KEY', { value: VALUE, branches: ['main', 'release/*'], events: ['push', 'tag'], environments: ['production'] });
    expect(put).toEqual({ status: 200, body: { name: 'DEPLOY_KEY', level: 'server', branches: ['main', 'release/*'], events: ['push', 'tag'], environments: ['production'], updated_at: expect.any(String) } });
    expect(await server.api('PUT', '/api/secrets/NPM_TOKEN', { value: VALUE })).toMatchObject({ status: 200, body: { branches: null, events: null, environments: null } });
    const list = await server.api('GET', '/api/secrets');
    expect(list.body.map((s: { name: string }) => s.name)).toEqual(['DEPLOY_KEY', 'NPM_TOKEN']);
    expect(list.body[0]).toEqual(put.body);
    expect(JSON.stringify(list.body)).not.toContain(VALUE);
    // A PUT replaces the whole secret: scopes left out are any again.
    expect(await server.api('PUT', '/api/secrets/NPM_TOKEN', { value: VALUE, events: ['push'] })).toMatchObject({ status: 200, body: { events: ['push'] } });
    expect(await server.api('DELETE', '/api/secrets/NPM_TOKEN')).toMatchObject({ status: 204 });
    expect(await server.api('DELETE', '/api/secrets/NPM_TOKEN')).toEqual({ status: 404, body: { error: 'no server secret NPM_TOKEN' } });
    expect((await server.api('GET', '/api/secrets')).body.map((s: { name: string }) => s.name)).toEqual(['DEPLOY_KEY']);
  });

  it('keeps the repo-level contract (PUT {value} → 200 with the name; names listed) and takes the same scopes', async () => {
    expect(await server.api('PUT', '/api/repos/web/secrets/TOKEN', { value: VALUE })).toMatchObject({ status: 200, body: { name: 'TOKEN', level: 'repo', branches: null } });
    expect(await server.api('PUT', '/api/repos/web/secrets/SCOPED', { value: VALUE, environments: ['stag*'], events: ['manual'] })).toMatchObject({ status: 200 });
    expect((await server.api('GET', '/api/repos/web/secrets')).body).toEqual(['SCOPED', 'TOKEN']);
    const one = await server.api('GET', '/api/repos/web/secrets/SCOPED');
    expect(one).toEqual({ status: 200, body: { name: 'SCOPED', level: 'repo', branches: null, events: ['manual'], environments: ['stag*'], updated_at: expect.any(String) } });
    expect(await server.api('GET', '/api/repos/web/secrets/NOPE')).toEqual({ status: 404, body: { error: 'no secret NOPE' } });
    expect(await server.api('GET', '/api/repos/nope/secrets')).toMatchObject({ status: 404 });
  });

  it('refuses bad input in one line and changes nothing', async () => {
    const before = JSON.stringify([(await server.api('GET', '/api/secrets')).body, (await server.api('GET', '/api/repos/web/secrets/SCOPED')).body]);
    const bad: Array<[string, unknown, string]> = [
      ['/api/secrets/DEPLOY_KEY', { value: 'short' }, 'value: a secret value has at least 6 characters (a shorter one would mask ordinary text in every log)'],
      ['/api/repos/web/secrets/SCOPED', { value: 'short' }, 'value: a secret value has at least 6 characters (a shorter one would mask ordinary text in every log)'],
      ['/api/secrets/DEPLOY_KEY', { value: VALUE, events: ['merge'] }, 'events.0: an event is push, tag, pull_request, cron, manual or api'],
      ['/api/secrets/DEPLOY_KEY', { value: VALUE, branches: [] }, 'branches: give at least one branch glob, or leave the key out for any'],
      ['/api/secrets/DEPLOY_KEY', { value: VALUE, environments: [''] }, 'environments.0: a glob is not empty'],
      ['/api/secrets/DEPLOY_KEY', { value: VALUE, branch: ['main'] }, 'unknown key "branch"'],
      ['/api/secrets/DEPLOY_KEY', { value: VALUE, branches: 'main' }, expect.stringMatching(/^branches: /) as unknown as string],
      ['/api/secrets/bad-name', { value: VALUE }, 'a secret name is letters, digits and _'],
      ['/api/repos/web/secrets/SCOPED', { value: VALUE, events: ['nope'] }, 'events.0: an event is push, tag, pull_request, cron, manual or api'],
      ['/api/repos/web/secrets/SCOPED', { value: VALUE, environments: [] }, 'environments: give at least one environment glob, or leave the key out for any'],
    ];
    for (const [path, body, error] of bad) expect(await server.api('PUT', path, body), `${path} ${JSON.stringify(body)}`).toEqual({ status: 400, body: { error } });
    expect(await server.api('PUT', '/api/secrets/DEPLOY_KEY', 'not json')).toEqual({ status: 400, body: { error: 'the body is not JSON' } });
    expect(JSON.stringify([(await server.api('GET', '/api/secrets')).body, (await server.api('GET', '/api/repos/web/secrets/SCOPED')).body])).toBe(before);
    expect(server.output()).not.toContain(VALUE);
  });
});

describe('the repo page', () => {
  const page = async (path: string, init: RequestInit = {}) => (await fetch(`${server.url}${path}`, { redirect: 'manual', ...init })).text();

  it("lists the secrets a repo's jobs can name, with their scopes, to an admin session only", async () => {
    await server.api('PUT', '/api/secrets/SCOPED', { value: VALUE, branches: ['main'] });
    const login = await fetch(`${server.url}/login`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/' }).toString(),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const html = await page('/repos/web', { headers: { cookie } });
    expect(html).toContain('data-secret="repo:SCOPED"');
    expect(html).toContain('data-secret="server:SCOPED"');
    expect(html).toContain('server (the repo&#39;s wins)');
    expect(html).toContain('<code>stag*</code>');
    expect(html).toContain('data-secret="server:DEPLOY_KEY"');
    expect(html).not.toContain(VALUE);
    const anonymous = await page('/repos/web');
    expect(anonymous).not.toContain('data-secrets');
    expect(anonymous).not.toContain('SCOPED');
  });
});
