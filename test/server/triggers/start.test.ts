// The triggers' start(): it resolves before any git work, mirrors in the background, builds
// the commits made after a repo was added (but not before), and stop() ends the git readers.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs } from '../../helpers/git.js';
import { createTriggerParts, processesWith } from './fixture.js';

beforeAll(isolateGit);
afterAll(removeTempDirs);

const PIPELINE = 'jobs:\n  hello:\n    steps: [{ run: echo hello }]\n';

describe('start()', () => {
  it('mirrors in the background: a commit made after add() gets its run, one made before does not', async () => {
    const repo = await createRepo();
    const before = await repo.commit({ 'pipeline.yml': PIPELINE }, 'before the server knew the repo');
    const parts = await createTriggerParts();
    const added = await parts.triggers.add({ name: 'web', path: repo.path });
    expect(added).toMatchObject({ name: 'web', defaultBranch: 'main' });
    const after = await repo.commit({ 'a.txt': 'a' }, 'after add, before the mirror');

    await parts.triggers.start();
    expect(existsSync(parts.triggers.mirrorDir(added))).toBe(false); // nothing waited for git
    await parts.triggers.started();
    expect(existsSync(parts.triggers.mirrorDir(added))).toBe(true);
    const runs = parts.store.runs.listRuns(added.id);
    expect(runs.map((r) => [r.sha, r.event])).toEqual([[after, 'push']]);
    expect(runs.some((r) => r.sha === before)).toBe(false);
    await parts.stop();
  });

  it('builds the commits made while the server was down, and a trigger during start waits for the mirror', async () => {
    const repo = await createRepo();
    await repo.commit({ 'pipeline.yml': PIPELINE });
    const first = await createTriggerParts();
    const added = await first.triggers.register({ name: 'web', path: repo.path });
    await first.triggers.stop();
    const down = await repo.commit({ 'b.txt': 'b' }, 'while down');

    // A second server on the same data folder and database.
    const again = await createTriggerParts({ dataDir: first.dataDir });
    await again.triggers.start();
    const run = await again.api.trigger('web', { event: 'api' });
    expect(run.sha).toBe(down);
    await again.triggers.started();
    expect(again.store.runs.listRuns(added.id).filter((r) => r.sha === down).map((r) => r.event).sort()).toEqual(['api', 'push']);
    await again.stop();
    first.store.close();
  });

  it('stop() ends the mirrors\' git readers', async () => {
    const repo = await createRepo();
    await repo.commit({ 'pipeline.yml': PIPELINE });
    const parts = await createTriggerParts();
    const added = await parts.triggers.register({ name: 'web', path: repo.path });
    await parts.api.trigger('web', { event: 'api' });
    const mirror = parts.triggers.mirrorDir(added);
    expect(processesWith(`--git-dir=${mirror}`)).toHaveLength(1);
    await parts.stop();
    expect(processesWith(`--git-dir=${mirror}`)).toEqual([]);
  });
});
