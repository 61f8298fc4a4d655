// End to end: superseded runs on a real server and a real agent (process executor). A push to
// a branch cancels that branch's older run (its running job is stopped on the agent), except
// on the default branch, and not when the repo has cancel_superseded off. The repo is a bare
// repository on this host that a work clone pushes to, as a team's shared repo would be.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';
import { isAlive, waitFor } from '../helpers/processes.js';

let server: ServerProcess;
let work: TestRepo;
let bare: string;
let flags: string;

/** A job that prints its pid and waits for the flag file `name` (or to be cancelled). */
const holding = (name: string) => `jobs:
  work:
    steps:
      - run: |
          echo "pid $$"
          while [ ! -f ${JSON.stringify(join(flags, name))} ]; do sleep 0.05; done
          echo released
`;
const QUICK = 'jobs:\n  work:\n    steps: [{ run: echo quick }]\n';

/** Commits `pipeline` on `branch` (made from main when new) and pushes it; resolves with the sha. */
async function pushTo(branch: string, pipeline: string): Promise<string> {
  const known = (await work.git('branch', '--list', branch)) !== '';
  await work.git('checkout', '--quiet', ...(known ? [branch] : ['-b', branch, 'main']));
  const sha = await work.commit({ 'pipeline.yml': pipeline, 'n.txt': String(Math.random()) });
  await git(work.path, 'push', '--quiet', bare, `HEAD:refs/heads/${branch}`);
  return sha;
}

/** The run of `sha`, once its job has printed its pid (it is running on the agent). */
async function runningRun(sha: string): Promise<{ run: any; pid: number }> {
  const run = await runOfCommit(server, 'web', sha);
  const pid = await eventually(async () => {
    const line = (await jobLog(server, run.jobs[0].id)).find((l) => l.startsWith('pid '));
    return line ? Number(line.slice(4)) : null;
  }, 15_000, `run ${run.number} running`);
  return { run, pid };
}

beforeAll(async () => {
  await isolateGit();
  flags = await makeTempDir('kiln-flags-');
  work = await createRepo();
  await work.commit({ 'pipeline.yml': QUICK });
  bare = join(await makeTempDir('kiln-bare-'), 'web.git');
  await git(work.path, 'clone', '--quiet', '--bare', work.path, bare);
  server = await startServer({ repos: { web: bare } });
  await startAgent(server, { name: 'the-agent' });
  await eventually(async () => (await server.api('GET', '/api/agents')).body.some((a: { status: string }) => a.status === 'idle'), 15_000, 'an idle agent');
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('a push to a branch', () => {
  it('cancels the branch\'s older run: its running job stops on the agent, the run ends cancelled saying why, and the new run builds', async () => {
    expect((await server.api('GET', '/api/repos/web')).body).toMatchObject({ default_branch: 'main', cancel_superseded: true });
    expect(await (await fetch(`${server.url}/repos/web`)).text()).toContain('older runs (not on main)');
    const { run: first, pid } = await runningRun(await pushTo('feature', holding('never')));
    expect(isAlive(pid)).toBe(true);

    const second = await runOfCommit(server, 'web', await pushTo('feature', QUICK));
    const ended = await runEnded(server, first.id, 10_000);
    const why = `superseded by run #${second.number}`;
    expect(ended).toMatchObject({ status: 'cancelled', cancel_reason: why, jobs: [{ name: 'work', status: 'cancelled', reason: why }] });
    expect(await waitFor(() => !isAlive(pid), 5000), 'the job\'s shell is gone within 5 s').toBe(true);
    expect(await jobLog(server, first.jobs[0].id)).not.toContain('released');
    expect(await (await fetch(`${server.url}/runs/${first.id}`)).text()).toContain(`Cancelled: ${why}.`);

    expect(await runEnded(server, second.id)).toMatchObject({ status: 'success', cancel_reason: null, jobs: [{ status: 'success', agent: 'the-agent' }] });
  });
});

describe('runs that are not superseded', () => {
  it('on the default branch, both runs build', async () => {
    const { run: first } = await runningRun(await pushTo('main', holding('main-go')));
    const second = await runOfCommit(server, 'web', await pushTo('main', QUICK));
    expect((await server.api('GET', `/api/runs/${first.id}`)).body).toMatchObject({ status: 'running', cancel_reason: null });
    writeFileSync(join(flags, 'main-go'), '');
    expect(await runEnded(server, first.id)).toMatchObject({ status: 'success' });
    expect(await runEnded(server, second.id)).toMatchObject({ status: 'success' });
  });

  it('with cancel_superseded off (PATCH), both runs of a branch build; a bad value is refused in one line and changes nothing', async () => {
    expect(await server.api('PATCH', '/api/repos/web', { cancel_superseded: 'no' })).toEqual({ status: 400, body: { error: 'cancel_superseded: Invalid input: expected boolean, received string' } });
    expect(await server.api('PATCH', '/api/repos/web', { cancel_superseded: false, poll: '1m' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/is a folder on this server/) } });
    expect((await server.api('GET', '/api/repos/web')).body.cancel_superseded).toBe(true);
    expect(await server.api('PATCH', '/api/repos/web', { cancel_superseded: false })).toMatchObject({ status: 200, body: { cancel_superseded: false } });
    expect(await (await fetch(`${server.url}/repos/web`)).text()).toContain('a push never cancels older runs');
    expect(await server.api('PATCH', '/api/repos/web', {}, null)).toMatchObject({ status: 401 });

    const { run: first } = await runningRun(await pushTo('topic', holding('topic-go')));
    const second = await runOfCommit(server, 'web', await pushTo('topic', QUICK));
    expect((await server.api('GET', `/api/runs/${first.id}`)).body).toMatchObject({ status: 'running', cancel_reason: null });
    writeFileSync(join(flags, 'topic-go'), '');
    expect(await runEnded(server, first.id)).toMatchObject({ status: 'success' });
    expect(await runEnded(server, second.id)).toMatchObject({ status: 'success' });
  });
});

describe('the cancel_superseded setting', () => {
  it('is taken at registration (POST) and from kiln.yml, where it follows the file at every start', async () => {
    expect(await server.api('POST', '/api/repos', { name: 'bad', path: bare, cancel_superseded: 1 })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^expected \{"name", "path", "cancel_superseded"\?\}/) } });
    expect((await server.api('GET', '/api/repos/bad')).status).toBe(404);
    expect(await server.api('POST', '/api/repos', { name: 'other', path: bare, cancel_superseded: false })).toMatchObject({ status: 201, body: { cancel_superseded: false } });
    expect((await server.api('GET', '/api/repos/other')).body.cancel_superseded).toBe(false);

    const config = (line: string) => `repos:\n  - name: web\n    path: ${JSON.stringify(bare)}\n${line}pools: []\n`;
    const data = await makeTempDir('kiln-data-');
    const off = await startServer({ dataDir: data, config: config('    cancel_superseded: false\n') });
    expect((await off.api('GET', '/api/repos/web')).body.cancel_superseded).toBe(false);
    await off.kill();
    const again = await startServer({ dataDir: data, config: config('') });
    expect((await again.api('GET', '/api/repos/web')).body.cancel_superseded).toBe(true);
    await again.kill();
    await expect(startServer({ dataDir: data, config: config('    cancel_superseded: sometimes\n') })).rejects.toThrow(/kiln\.yml:4:\d+: repos\[0\]\.cancel_superseded: /);
  });
});
