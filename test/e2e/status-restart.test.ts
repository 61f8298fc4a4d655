// End to end: commit statuses wait in the outbox while the forge is down, survive a restart of
// the kiln server on the same data folder, and reach the forge once it is back: every status
// once, in order per run. The forge is a recording server on loopback (test/helpers/recorder.ts);
// the remote is a real git server (git http-backend).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { startRecorder, type Recorded } from '../helpers/recorder.js';
import { eventually, freePort, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const FORGE_TOKEN = 'forge-status-token-0123456789';
let remote: GitServer;
let work: TestRepo;
let sha: string;

beforeAll(async () => {
  await isolateGit();
  remote = await startGitServer({ root: await makeTempDir('kiln-remote-'), token: null });
  work = await createRepo();
  sha = await work.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo built }]\n' });
});
afterAll(async () => {
  await killAll();
  await remote.close();
  await removeTempDirs();
});

/** A server with a remote repo `name` that reports to a forge at `forgeUrl`, and an agent. */
async function serverWithForge(name: string, forgeUrl: string, dataDir: string): Promise<ServerProcess> {
  remote.createRepo(`acme/${name}`);
  await git(work.path, 'push', '--quiet', remote.url(`acme/${name}`), 'HEAD:refs/heads/main');
  const server = await startServer({ dataDir });
  expect((await server.api('POST', '/api/repos', { name, url: remote.url(`acme/${name}`), forge: { kind: 'github', api_url: forgeUrl, token: FORGE_TOKEN } })).status).toBe(201);
  await startAgent(server);
  return server;
}

/** Two API runs of `repo`, ended. */
async function twoRuns(server: ServerProcess, repo: string): Promise<Array<{ id: number; number: number }>> {
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const run = (await server.api('POST', `/api/repos/${repo}/runs`, { ref: 'main' })).body;
    expect((await runEnded(server, run.id)).status).toBe('success');
    runs.push(run);
  }
  return runs;
}

/** What the forge was sent for each run, in the order it arrived: the descriptions of the statuses it took. */
function byRun(requests: Recorded[], runs: Array<{ id: number }>): string[][] {
  const taken = requests.filter((r) => r.answered < 300).map((r) => JSON.parse(r.body) as { target_url: string; description: string });
  return runs.map((run) => taken.filter((b) => b.target_url.endsWith(`/runs/${run.id}`)).map((b) => b.description));
}

const EVERY_STATUS = (number: number) => [`kiln run #${number} queued`, `kiln run #${number} running`, `kiln run #${number} passed`];

describe('commit statuses across a restart', () => {
  it('wait while the forge is not listening, survive the server stopping and starting on the same data folder, and arrive once, in order, when it is back', async () => {
    const port = await freePort();
    const data = await makeTempDir('kiln-data-');
    const first = await serverWithForge('site', `http://127.0.0.1:${port}`, data);
    const runs = await twoRuns(first, 'site');
    await eventually(async () => (await (await fetch(`${first.url}/repos/site`)).text()).includes('A commit status could not be sent to github'), 15_000, 'a failed send shown on the repo page');
    expect(await first.kill()).toBe(0);

    const second = await startServer({ dataDir: data });
    const forge = await startRecorder(port);
    try {
      const sent = await eventually(() => {
        const got = byRun(forge.requests, runs);
        return got.every((descriptions) => descriptions.length >= 3) ? got : null;
      }, 30_000, 'every status at the forge');
      expect(sent).toEqual(runs.map((r) => EVERY_STATUS(r.number)));
      for (const r of forge.requests) {
        expect(r.path).toBe(`/repos/acme/site/statuses/${sha}`);
        expect(r.headers.authorization).toBe(`Bearer ${FORGE_TOKEN}`);
      }
      await eventually(async () => !(await (await fetch(`${second.url}/repos/site`)).text()).includes('could not be sent'), 5000, 'the failure gone from the repo page');
    } finally {
      await forge.close();
    }
  });

  it('wait while the forge answers 500, across a restart, and arrive once, in order, when it answers again', async () => {
    const forge = await startRecorder();
    try {
      forge.answer(500);
      const data = await makeTempDir('kiln-data-');
      const first = await serverWithForge('shop', forge.url, data);
      const runs = await twoRuns(first, 'shop');
      await eventually(() => forge.requests.length >= 2 || null, 15_000, 'failed sends');
      expect(await first.kill()).toBe(0);
      await startServer({ dataDir: data });
      forge.answer(201);
      const sent = await eventually(() => {
        const got = byRun(forge.requests, runs);
        return got.every((descriptions) => descriptions.length >= 3) ? got : null;
      }, 30_000, 'every status at the forge');
      expect(sent).toEqual(runs.map((r) => EVERY_STATUS(r.number)));
    } finally {
      await forge.close();
    }
  });
});
