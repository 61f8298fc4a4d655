// End to end: caches on a real server and agent, with a real git server on loopback as the
// forge's git side and pull-request deliveries signed as GitHub signs them. The default
// branch saves a cache and its next run restores it (an exact hit, from the agent's local
// copy); a branch reads main's cache through a restore-key prefix; a pull request that writes
// its own bytes under main's very key saves them for itself only, and main keeps its own.
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { eventually, jobLog, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const TOKEN = 'remote-token-0123456789';
const SECRET = 'hook-secret-0123456789';

const PIPELINE = (write: string, policy = 'pull-push') => `on:
  push: {}
  pull_request: { branches: [main] }
jobs:
  deps:
    cache:
      key: deps-\${{ hashFiles('lock.txt') }}
      paths: [.deps]
      restore_keys: [deps-]
      policy: ${policy}
    steps:
      - run: |
          if [ -f .deps/marker ]; then echo "restored=$(cat .deps/marker)"; else echo "restored=none"; fi
          mkdir -p .deps && ${write} > .deps/marker
`;

let remote: GitServer;
let work: TestRepo;
let server: ServerProcess;

const pushTo = (...refspecs: string[]) =>
  git(work.path, 'push', '--quiet', '--force', `http://x:${TOKEN}@${remote.url('team/web').slice('http://'.length)}`, ...refspecs);

beforeAll(async () => {
  await isolateGit();
  remote = await startGitServer({ root: await makeTempDir('kiln-remote-'), token: TOKEN });
  remote.createRepo('team/web');
  work = await createRepo();
  await work.commit({ 'pipeline.yml': PIPELINE('echo "main-$KILN_RUN_ID"'), 'lock.txt': 'left-pad@1.3.0\n' });
  await pushTo('HEAD:refs/heads/main');
  server = await startServer();
  expect((await server.api('POST', '/api/repos', { name: 'web', url: remote.url('team/web'), webhook_secret: SECRET, credentials: { token: TOKEN } })).status).toBe(201);
  await startAgent(server);
});
afterAll(async () => {
  await killAll();
  await remote.close();
  await removeTempDirs();
});

async function deliver(event: string, payload: unknown): Promise<number[]> {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const response = await fetch(`${server.url}/hooks/web`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature },
  });
  expect(response.status).toBe(202);
  const { delivery } = (await response.json()) as { delivery: number };
  const done = await eventually(async () => {
    const found = ((await server.api('GET', '/api/repos/web/hooks?limit=500')).body as Array<{ id: number; status: string; run_ids: number[] }>).find((d) => d.id === delivery);
    return found && found.status !== 'accepted' ? found : null;
  }, 20_000, `delivery ${delivery}`);
  return done.run_ids;
}

/** Runs main's head (event api) and resolves with the job's log once the run succeeded. */
async function runMain(): Promise<{ runId: number; log: string[] }> {
  const { body } = await server.api('POST', '/api/repos/web/runs', { ref: 'main' });
  return ended(body.id);
}

async function ended(runId: number): Promise<{ runId: number; log: string[] }> {
  const run = await runEnded(server, runId, 60_000);
  const log = await jobLog(server, run.jobs[0].id);
  expect(run.status, log.join('\n')).toBe('success');
  return { runId, log };
}

const restored = (log: string[]) => log.find((l) => l.startsWith('restored='));

describe('caches', () => {
  let mainRun: number;

  it('are saved by the default branch and restored, exactly, by its next run', async () => {
    const first = await runMain();
    mainRun = first.runId;
    expect(first.log).toContainEqual(expect.stringMatching(/^kiln: cache miss deps-[0-9a-f]+/));
    expect(restored(first.log)).toBe('restored=none');
    expect(first.log).toContainEqual(expect.stringMatching(/^kiln: cache saved deps-[0-9a-f]+ \([\d.]+ (bytes|KiB|MiB), [\d.]+ s\)$/));

    const second = await runMain();
    expect(second.log).toContainEqual(expect.stringMatching(/^kiln: cache hit deps-[0-9a-f]+ \(exact\)/));
    expect(restored(second.log)).toBe(`restored=main-${mainRun}`);
    expect(second.log).toContainEqual(expect.stringMatching(/^kiln: cache not saved: exact hit/));
  }, 90_000);

  it('of the default branch are read by another branch through a restore key; the branch saves its own', async () => {
    await work.git('checkout', '--quiet', '-B', 'feature', 'main');
    const sha = await work.commit({ 'lock.txt': 'left-pad@1.3.0\nis-odd@3.0.1\n' });
    await work.git('checkout', '--quiet', 'main');
    await pushTo(`${sha}:refs/heads/feature`);
    const [runId] = await deliver('push', { ref: 'refs/heads/feature', before: '0'.repeat(40), after: sha, repository: { full_name: 'team/web' } });
    const { log } = await ended(runId!);
    expect(log).toContainEqual(expect.stringMatching(/^kiln: cache hit deps-[0-9a-f]+ \(prefix deps-\)/));
    expect(restored(log)).toBe(`restored=main-${mainRun}`);
    expect(log).toContainEqual(expect.stringMatching(/^kiln: cache saved deps-/));
    // main does not read what the branch saved: its own entry is still the exact hit.
    expect(restored((await runMain()).log)).toBe(`restored=main-${mainRun}`);
  }, 90_000);

  it('cannot be poisoned by a pull request that writes under the default branch\'s key', async () => {
    // The pull request's pipeline.yml writes its own bytes and only pushes, under main's key.
    await work.git('checkout', '--quiet', '-B', 'evil', 'main');
    const sha = await work.commit({ 'pipeline.yml': PIPELINE('echo "poison"', 'push') });
    await work.git('checkout', '--quiet', 'main');
    await pushTo(`${sha}:refs/heads/evil`, `${sha}:refs/pull/9/head`);
    const payload = {
      action: 'opened', number: 9,
      pull_request: { head: { ref: 'evil', sha, repo: { full_name: 'team/web' } }, base: { ref: 'main', repo: { full_name: 'team/web' } } },
    };
    const [prRun] = await deliver('pull_request', payload);
    const pr = await ended(prRun!);
    expect(pr.log).toContainEqual(expect.stringMatching(/^kiln: cache saved deps-/));
    // main's next run restores main's bytes, not the pull request's.
    const after = await runMain();
    expect(restored(after.log)).toBe(`restored=main-${mainRun}`);
  }, 90_000);
});
