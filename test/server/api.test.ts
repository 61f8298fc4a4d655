// The HTTP API of a real server process: shapes, tokens, errors, and what changes nothing.
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { AGENT_TOKEN, eventually, killAll, startServer, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo building }]\n  deploy:\n    needs: build\n    approval: true\n    steps: [{ run: echo deploying }]\n' });
  server = await startServer({ repos: { web: repo.path } });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('the API', () => {
  it('answers /healthz when the database answers', async () => {
    expect(await server.api('GET', '/healthz', undefined, null)).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('lists registered repos; registering starts no run', async () => {
    const { body } = await server.api('GET', '/api/repos', undefined, null);
    expect(body).toEqual([expect.objectContaining({ name: 'web', path: repo.path, default_branch: 'main', last_runs: [] })]);
    expect((await server.api('GET', '/api/repos/web/runs', undefined, null)).body).toEqual([]);
  });

  it('refuses changes without the admin token: 401 without one, 403 with the agent token', async () => {
    expect(await server.api('POST', '/api/repos/web/runs', {}, null)).toMatchObject({ status: 401, body: { error: expect.stringMatching(/needs a token/) } });
    expect(await server.api('POST', '/api/repos/web/runs', {}, AGENT_TOKEN)).toMatchObject({ status: 403 });
    expect(await server.api('POST', '/api/repos/web/runs', {}, 'wrong')).toMatchObject({ status: 401 });
    expect((await server.api('GET', '/api/repos/web/runs', undefined, null)).body).toEqual([]);
  });

  it('starts a run through the API with the SPEC shape', async () => {
    const { status, body } = await server.api('POST', '/api/repos/web/runs', { ref: 'main' });
    expect(status).toBe(201);
    expect(body).toMatchObject({ repo: 'web', number: 1, status: 'queued', event: 'api', ref: 'refs/heads/main', branch: 'main', tag: null, message: 'commit 1' });
    for (const key of ['id', 'sha', 'created_at', 'started_at', 'finished_at', 'jobs']) expect(body).toHaveProperty(key);
    expect(body.jobs.map((j: { name: string }) => j.name)).toEqual(['build', 'deploy']);
    const run = (await server.api('GET', `/api/runs/${body.id}`, undefined, null)).body;
    expect(run.jobs[0]).toMatchObject({ run_id: body.id, name: 'build', status: 'queued', needs: [], agent: null, attempt: 0, exit_code: null, steps: [{ name: 'echo building', status: 'queued', exit_code: null, started_at: null, finished_at: null }] });
  });

  it('says why each queued job waits', async () => {
    const { body } = await server.api('GET', '/api/queue', undefined, null);
    expect(body.map((j: { name: string; reason: string }) => [j.name, j.reason])).toEqual([
      ['build', 'no agent or pool has the labels []'],
      ['deploy', 'waiting for a job it needs: build'],
    ]);
  });

  it('answers 409 when approving a job that is not blocked, and 404 for unknown things', async () => {
    const run = (await server.api('GET', '/api/repos/web/runs', undefined, null)).body[0];
    const jobs = (await server.api('GET', `/api/runs/${run.id}`)).body.jobs;
    expect(await server.api('POST', `/api/jobs/${jobs[0].id}/approve`)).toMatchObject({ status: 409, body: { error: expect.stringMatching(/not blocked/) } });
    expect(await server.api('GET', '/api/runs/999999')).toMatchObject({ status: 404, body: { error: 'no run 999999' } });
    expect(await server.api('POST', '/api/repos/nope/runs', {})).toMatchObject({ status: 404, body: { error: 'no repo named nope' } });
    expect(await server.api('GET', '/api/runs/abc')).toMatchObject({ status: 400 });
  });

  it('refuses bad bodies with one line and changes nothing', async () => {
    const before = (await server.api('GET', '/api/repos/web/runs')).body.length;
    expect(await server.api('POST', '/api/repos/web/runs', '{not json')).toMatchObject({ status: 400, body: { error: 'the body is not JSON' } });
    expect(await server.api('POST', '/api/repos/web/runs', { branch: 'main' })).toMatchObject({ status: 400, body: { error: 'unknown key "branch"' } });
    expect(await server.api('POST', '/api/repos/web/runs', { ref: 'no-such-branch' })).toMatchObject({ status: 404 });
    expect(await server.api('POST', '/api/repos/web/runs', 'x'.repeat(2 * 1024 * 1024))).toMatchObject({ status: 413 });
    expect((await server.api('GET', '/api/repos/web/runs')).body.length).toBe(before);
  });

  it('cancels a run, then refuses to cancel it again', async () => {
    const run = (await server.api('POST', '/api/repos/web/runs', {})).body;
    const cancelled = await server.api('POST', `/api/runs/${run.id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(cancelled.body.jobs.map((j: { status: string }) => j.status)).toEqual(['cancelled', 'cancelled']);
    expect(await server.api('POST', `/api/runs/${run.id}/cancel`)).toMatchObject({ status: 409 });
  });

  it('re-runs an ended run as attempt 2 of the same run, and refuses one that has not ended', async () => {
    const open = (await server.api('GET', '/api/repos/web/runs')).body.at(-1);
    expect(open.status).toBe('queued');
    expect(await server.api('POST', `/api/runs/${open.id}/rerun`, {})).toMatchObject({ status: 409, body: { error: expect.stringMatching(/has not ended yet \(queued\)/) } });
    const ended = (await server.api('GET', '/api/repos/web/runs')).body.find((r: { status: string }) => r.status === 'cancelled');
    const before = (await server.api('GET', '/api/repos/web/runs')).body.length;
    const { status, body } = await server.api('POST', `/api/runs/${ended.id}/rerun`, {});
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: ended.id, number: ended.number, sha: ended.sha, attempt: 2, status: 'queued', cancel_reason: null });
    expect(body.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'cancelled', jobs: ['build', 'deploy'] }),
      expect.objectContaining({ attempt: 2, status: 'queued', jobs: ['build', 'deploy'], finished_at: null }),
    ]);
    expect(body.jobs.map((j: { status: string; run_attempt: number }) => [j.status, j.run_attempt])).toEqual([['queued', 2], ['queued', 2]]);
    expect((await server.api('GET', '/api/repos/web/runs')).body.length).toBe(before);
    await server.api('POST', `/api/runs/${ended.id}/cancel`);
  });

  it('keeps secrets write-only', async () => {
    expect(await server.api('PUT', '/api/repos/web/secrets/DEPLOY_KEY', { value: 's3cr3t-value' })).toMatchObject({ status: 200 });
    expect((await server.api('GET', '/api/repos/web/secrets')).body).toEqual(['DEPLOY_KEY']);
    const everything = JSON.stringify([(await server.api('GET', '/api/repos')).body, (await server.api('GET', '/api/repos/web/secrets')).body]);
    expect(everything).not.toContain('s3cr3t-value');
    expect(await server.api('DELETE', '/api/repos/web/secrets/DEPLOY_KEY')).toMatchObject({ status: 204 });
    expect(await server.api('DELETE', '/api/repos/web/secrets/DEPLOY_KEY')).toMatchObject({ status: 404 });
  });

  it('refuses a secret value shorter than 6 characters, saying why, and keeps nothing of it', async () => {
    const error = 'value: a secret value has at least 6 characters (a shorter one would mask ordinary text in every log)';
    expect(await server.api('PUT', '/api/repos/web/secrets/SHORT', { value: 'abc12' })).toMatchObject({ status: 400, body: { error } });
    expect(await server.api('PUT', '/api/repos/web/secrets/SHORT', { value: '🔑🔑🔑🔑🔑' })).toMatchObject({ status: 400, body: { error } });
    expect((await server.api('GET', '/api/repos/web/secrets')).body).toEqual([]);
    expect(await server.api('PUT', '/api/repos/web/secrets/SHORT', { value: 'abc123' })).toMatchObject({ status: 200 });
    expect(await server.api('DELETE', '/api/repos/web/secrets/SHORT')).toMatchObject({ status: 204 });
  });

  it('serves the pipeline JSON Schema', async () => {
    const { status, body } = await server.api('GET', '/schema/pipeline.json', undefined, null);
    expect(status).toBe(200);
    expect(body.properties.jobs).toBeDefined();
    const job = body.properties.jobs.additionalProperties.properties;
    expect(Object.keys(job)).toEqual(expect.arrayContaining(['name', 'working-directory', 'matrix']));
    expect(Object.keys(job.matrix.properties)).toEqual(['include', 'exclude']);
  });

  it('starts a run for a new commit on the watched repo within 2 s', async () => {
    const before = (await server.api('GET', '/api/repos/web/runs')).body.length;
    const started = Date.now();
    const sha = await repo.commit({ 'README.md': 'hello' }, 'a pushed commit');
    const run = await eventually(async () => (await server.api('GET', '/api/repos/web/runs')).body.find((r: { sha: string }) => r.sha === sha), 5000, 'the run of the new commit');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(run).toMatchObject({ event: 'push', branch: 'main', message: 'a pushed commit' });
    expect((await server.api('GET', '/api/repos/web/runs')).body.length).toBe(before + 1);
  });

  it('gives a run with status error and the problems when pipeline.yml does not validate', async () => {
    const sha = await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    stepz: []\n' }, 'broken pipeline');
    const run = await eventually(async () => (await server.api('GET', '/api/repos/web/runs')).body.find((r: { sha: string }) => r.sha === sha), 5000);
    expect(run).toMatchObject({ status: 'error', error: expect.stringContaining('pipeline.yml:3:5: jobs.build.stepz: unknown key "stepz"') });
    expect((await server.api('GET', '/healthz')).status).toBe(200);
  });

  it('refuses agents with a wrong token at the WebSocket upgrade', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/agent`, { headers: { authorization: 'Bearer wrong' } });
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(401);
  });

  it('closes a connection that sends a malformed frame, without harming another agent', async () => {
    const open = (name: string) => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/agent`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, name, labels: ['x'], capacity: 1, version: 'test', pool: null, jobs: [] }));
        resolve(ws);
      });
    });
    const good = await open('good-agent');
    const bad = await open('bad-agent');
    await eventually(async () => (await server.api('GET', '/api/agents')).body.filter((a: { status: string }) => a.status !== 'offline').length === 2, 5000);
    const closed = new Promise<number>((resolve) => bad.on('close', (code) => resolve(code)));
    bad.send('{"type":"log","jobId":"not a number"');
    expect(await closed).toBe(1007);
    expect(good.readyState).toBe(WebSocket.OPEN);
    await eventually(async () => (await server.api('GET', '/api/agents')).body.find((a: { name: string; status: string }) => a.name === 'bad-agent' && a.status === 'offline'), 5000, 'the bad agent offline');
    const agents = (await server.api('GET', '/api/agents')).body;
    // (the good agent may have been handed a queued job by now: idle or busy, but connected)
    expect(agents.find((a: { name: string }) => a.name === 'good-agent')).toMatchObject({ status: expect.stringMatching(/idle|busy/), labels: ['x'], pool: null });
    expect(agents.find((a: { name: string }) => a.name === 'bad-agent')).toMatchObject({ status: 'offline' });
    good.close();
  });

  it('streams run and job events over /api/events, the same to every dashboard', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/events`);
    const other = new WebSocket(`${server.url.replace('http', 'ws')}/api/events`);
    const seen: Array<{ type: string; run?: { id: number; status: string }; job?: { run_id: number } }> = [];
    const seenByOther: typeof seen = [];
    ws.on('message', (data) => seen.push(JSON.parse(data.toString())));
    other.on('message', (data) => seenByOther.push(JSON.parse(data.toString())));
    await Promise.all([ws, other].map((s) => new Promise((resolve) => s.on('open', resolve))));
    await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo fixed }]\n' }, 'fix the pipeline');
    const run = (await server.api('POST', '/api/repos/web/runs', { ref: 'main' })).body;
    const firstOf = (events: typeof seen) => [events.find((e) => e.type === 'run' && e.run!.id === run.id), events.find((e) => e.type === 'job' && e.job!.run_id === run.id)];
    await eventually(() => [...firstOf(seen), ...firstOf(seenByOther)].every(Boolean), 5000, 'run and job events');
    expect(firstOf(seenByOther)).toEqual(firstOf(seen));
    other.close();
    ws.send('{"subscribe":{"job":"x"}}');
    await eventually(() => seen.some((e) => e.type === 'error'), 5000, 'an error answer');
    ws.close();
  });
});
