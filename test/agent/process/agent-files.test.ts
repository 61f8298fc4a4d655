// A real `kiln agent` process moves a job's artifacts and cache over HTTP beside its WebSocket,
// against a peer that answers the files contract's routes (test/agent/files/contract-server.ts).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMirrors } from '../../../server/git/mirror.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs } from '../../helpers/git.js';
import { plannedJob, plannedStep } from '../../helpers/plan.js';
import { createContractRoutes } from '../files/contract-server.js';
import { killAgents, startAgent } from './agent-process.js';
import { assignment, linesOf, startPeer, type Peer } from './peer.js';

const TOKEN = 'agent-token-files-7f2a';
const routes = createContractRoutes();
let peer: Peer;
let sha = '';

beforeAll(async () => {
  await isolateGit();
  const repo = await createRepo();
  sha = await repo.commit({ 'README.md': 'hello from the repo\n' });
  const mirror = join(await makeTempDir(), 'web.git');
  await createMirrors().fetchMirror({ path: repo.path }, mirror);
  peer = await startPeer({ token: TOKEN, mirrors: { web: mirror }, api: (req, res) => void routes.handle(req, res) });
});
afterAll(async () => {
  await killAgents();
  await peer?.close();
  await removeTempDirs();
});

const isDone = (m: { type: string }) => m.type === 'done';

describe('kiln agent: artifacts and caches', () => {
  it('uploads a job\'s artifact and saves its cache (kept in <work-dir>/cache-blobs), and unpacks the artifact for the job that needs it', async () => {
    const workDir = join(await makeTempDir('kiln-agent-'), 'work');
    startAgent(['--server', peer.url, '--token', TOKEN, '--work-dir', workDir, '--no-docker', '--capacity', '1']);
    const c = await peer.nextConnection();
    await c.hello;
    const files = (jobId: number, artifacts: Array<{ id: number; job: string; name: string; size: number; sha256: string }> = []) =>
      ({ token: routes.tokenOf(jobId), artifactMaxBytes: 1024 ** 3, cacheMaxBytes: 1024 ** 3, artifacts });
    const steps = [plannedStep('mkdir -p dist deps && cp README.md dist/ && echo dep > deps/d')];
    c.send({ type: 'job', assignment: assignment(21, sha, steps, {
      job: plannedJob(steps, { name: 'build', artifacts: { name: 'dist', paths: ['dist/'], expireMs: null }, cache: { key: 'deps-1', paths: ['deps/'] } }),
      files: files(21),
    }) });
    const built = await c.waitFor((m) => isDone(m) && m.type === 'done' && m.jobId === 21);
    expect(built).toMatchObject({ status: 'success' });
    const buildLines = linesOf(c.logs().filter((l) => l.jobId === 21));
    expect(buildLines.filter((l) => l.startsWith('kiln: a') || l.startsWith('kiln: cache'))).toEqual([
      'kiln: cache miss deps-1',
      expect.stringMatching(/^kiln: artifact "dist" uploaded: \d+ bytes in \d+\.\d\d s$/),
      expect.stringMatching(/^kiln: cache saved deps-1 \(\d+ bytes, \d+\.\d\d s\)$/),
    ]);
    expect(await readdir(join(workDir, 'cache-blobs'))).toEqual([`${routes.caches[0]!.sha256}.tgz`]);
    expect(await readdir(join(workDir, 'transfers'))).toEqual([]);

    const art = routes.artifacts[0]!;
    const needs = [{ id: art.id, job: 'build', name: 'dist', size: art.data.length, sha256: art.sha256 }];
    const test = [plannedStep('rm README.md && cat dist/README.md')];
    c.send({ type: 'job', assignment: assignment(22, sha, test, { job: plannedJob(test, { name: 'test', needs: ['build'] }), files: files(22, needs) }) });
    expect(await c.waitFor((m) => isDone(m) && m.type === 'done' && m.jobId === 22)).toMatchObject({ status: 'success' });
    const testLines = linesOf(c.logs().filter((l) => l.jobId === 22));
    expect(testLines).toContain('hello from the repo');
    expect(testLines.find((l) => l.startsWith('kiln: artifact'))).toMatch(/^kiln: artifact "dist" from build: \d+ bytes in \d+\.\d\d s$/);
    expect(c.errors).toEqual([]);
  });
});
