// The audit log of a real server process: a series of API calls (trigger, cancel, a secret set,
// a refused call, a bad input) leaves exactly the expected rows, newest first, filterable and
// paged; the secret's value appears nowhere in the audit table; only the admin may read it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs } from '../../helpers/git.js';
import { AGENT_TOKEN, killAll, kilnCli, startServer, type ServerProcess } from '../../helpers/kiln.js';

const VALUE = 'audit-secret-value-7c7c';
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

describe('the audit log', () => {
  it('records each change with actor, address, action, target and outcome, refusals and bad input included', async () => {
    const run = await server.api('POST', '/api/repos/web/runs', {});
    expect(run.status).toBe(201);
    expect(await server.api('POST', `/api/runs/${run.body.id}/cancel`)).toMatchObject({ status: 200 });
    expect(await server.api('PUT', '/api/repos/web/secrets/DEPLOY', { value: VALUE })).toMatchObject({ status: 200 });
    expect(await server.api('PUT', '/api/secrets/DEPLOY', { value: VALUE }, 'wrong-token')).toMatchObject({ status: 401 });
    expect(await server.api('POST', '/api/runs/abc/cancel', undefined, AGENT_TOKEN)).toMatchObject({ status: 403 });
    expect(await server.api('PUT', '/api/secrets/DEPLOY', { value: 'short' })).toMatchObject({ status: 400 });
    expect(await server.api('GET', '/api/repos')).toMatchObject({ status: 200 }); // reading is not recorded

    const log = await server.api('GET', '/api/audit');
    expect(log.status).toBe(200);
    const rows = log.body.entries.map((e: Record<string, unknown>) => [e.actor, e.action, e.target, e.outcome, e.status]);
    expect(rows).toEqual([
      ['admin token', 'secret.set', 'secret/DEPLOY', 'failed', 400],
      ['agent token', 'run.cancel', 'run/abc', 'refused', 403],
      ['unknown token', 'secret.set', 'secret/DEPLOY', 'refused', 401],
      ['admin token', 'secret.set', 'repo/web/secret/DEPLOY', 'ok', 200],
      ['admin token', 'run.cancel', `run/${run.body.id}`, 'ok', 200],
      ['admin token', 'run.trigger', 'repo/web', 'ok', 201],
    ]);
    for (const entry of log.body.entries) {
      expect(entry).toMatchObject({ address: '127.0.0.1', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    }
    expect(log.body.entries[0].detail).toMatch(/^value: /);
    expect(log.body.next).toBeNull();

    const db = new Database(join(server.dataDir, 'kiln.db'), { readonly: true });
    const everything = JSON.stringify(db.prepare('SELECT * FROM audit').all());
    db.close();
    expect(everything).not.toContain(VALUE);
    expect(readFileSync(join(server.dataDir, 'kiln.db')).includes(Buffer.from(VALUE))).toBe(false);
  });

  it('filters and pages newest first with a next cursor, and refuses a bad filter in one line', async () => {
    const refused = await server.api('GET', '/api/audit?outcome=refused');
    expect(refused.body.entries.map((e: { status: number }) => e.status)).toEqual([403, 401]);
    expect((await server.api('GET', '/api/audit?actor=agent%20token')).body.entries).toHaveLength(1);
    expect((await server.api('GET', '/api/audit?action=run.trigger&since=1h')).body.entries).toHaveLength(1);
    expect((await server.api('GET', '/api/audit?until=2000-01-01')).body.entries).toEqual([]);
    const first = await server.api('GET', '/api/audit?limit=4');
    expect(first.body.entries).toHaveLength(4);
    const second = await server.api('GET', `/api/audit?limit=4&before=${first.body.next}`);
    expect(second.body.entries.map((e: { action: string }) => e.action)).toEqual(['run.cancel', 'run.trigger']);
    expect(second.body.next).toBeNull();
    expect(await server.api('GET', '/api/audit?since=yesterday')).toEqual({ status: 400, body: { error: 'since must be an ISO time or a duration like 24h' } });
    expect(await server.api('GET', '/api/audit?limit=1001')).toEqual({ status: 400, body: { error: 'limit must be at most 1000' } });
    expect(await server.api('GET', '/api/audit?outcome=maybe')).toMatchObject({ status: 400 });
  });

  it('is printed by kiln audit, filtered, as lines or JSON', async () => {
    const lines = await kilnCli(server, 'audit', '--action', 'run.cancel');
    expect(lines.code).toBe(0);
    expect(lines.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^\S+Z agent token 127\.0\.0\.1 run\.cancel run\/abc refused 403 \(agent token may not run, cancel or re-run jobs: that needs the developer role\)$/),
      expect.stringMatching(/^\S+Z admin token 127\.0\.0\.1 run\.cancel run\/\d+ ok 200$/),
    ]);
    const json = await kilnCli(server, 'audit', '--outcome', 'failed', '--json');
    expect(JSON.parse(json.stdout).entries.map((e: { action: string }) => e.action)).toEqual(['secret.set']);
    expect(await kilnCli(server, 'audit', '--since', 'soon')).toMatchObject({ code: 1, stderr: expect.stringContaining('since must be an ISO time') });
  });

  it('records a webhook delivery as a trigger by hook:<forge>, a forged one refused', async () => {
    const forged = await fetch(`${server.url}/hooks/web`, {
      method: 'POST', body: '{}',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'x-hub-signature-256': 'sha256=00' },
    });
    expect(forged.status).toBe(401);
    const hooks = await server.api('GET', '/api/audit?actor=hook:github');
    expect(hooks.body.entries).toEqual([expect.objectContaining({ action: 'run.trigger', target: 'repo/web', outcome: 'refused', status: 401 })]);
  });

  it("records the dashboard's form posts: a refused login, an action without a session", async () => {
    const login = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' });
    expect(login.status).toBe(401);
    const cancel = await fetch(`${server.url}/runs/1/cancel`, { method: 'POST', body: new URLSearchParams({ csrf: 'x' }), redirect: 'manual' });
    expect(cancel.status).toBe(303);
    const rows = (await server.api('GET', '/api/audit?actor=anonymous&limit=2')).body.entries;
    expect(rows.map((e: Record<string, unknown>) => [e.action, e.target, e.outcome, e.status])).toEqual([
      ['run.cancel', 'run/1', 'refused', 303], ['login', '', 'refused', 401],
    ]);
  });

  it('records a push to the git mirror as a refused git.push on the repo', async () => {
    const push = await fetch(`${server.url}/git/web.git/info/refs?service=git-receive-pack`);
    expect(push.status).toBe(403);
    const rows = (await server.api('GET', '/api/audit?action=git.push')).body.entries;
    expect(rows).toEqual([expect.objectContaining({ actor: 'anonymous', target: 'repo/web', outcome: 'refused', status: 403 })]);
  });

  it('is for the server admin only', async () => {
    expect(await server.api('GET', '/api/audit', undefined, null)).toMatchObject({ status: 401 });
    expect(await server.api('GET', '/api/audit', undefined, AGENT_TOKEN)).toMatchObject({ status: 403 });
  });
});
