// API triggers through the real trigger component: which commit a request names, its errors,
// and that a trigger of a current mirror starts no git process at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../../helpers/git.js';
import { createTriggerParts, recordGitCalls, type GitCalls, type TriggerParts } from './fixture.js';

const PIPELINE = 'jobs:\n  hello:\n    steps: [{ run: echo hello }]\n';
let git: GitCalls;
let parts: TriggerParts;
let repo: TestRepo;
let first: string;

beforeAll(async () => {
  await isolateGit();
  git = await recordGitCalls();
  repo = await createRepo();
  first = await repo.commit({ 'pipeline.yml': PIPELINE }, 'the first commit');
  await repo.git('tag', '-a', '-m', 'release one', 'v1');
  parts = await createTriggerParts();
  await parts.triggers.register({ name: 'web', path: repo.path });
});
afterAll(async () => {
  await parts.stop();
  await removeTempDirs();
});

const trigger = (request: { ref?: string; sha?: string } = {}) => parts.api.trigger('web', { event: 'api', ...request });

describe('an API trigger', () => {
  it('of a current mirror starts no git process, one at a time or many at once', async () => {
    expect(await trigger()).toMatchObject({ sha: first, ref: 'refs/heads/main', event: 'api', message: 'the first commit' }); // warm: starts the reader
    git.reset();
    const runs = [];
    for (let i = 0; i < 10; i++) runs.push(await trigger());
    runs.push(...(await Promise.all(Array.from({ length: 30 }, () => trigger({ ref: 'main' })))));
    runs.push(await trigger({ sha: first }), await trigger({ ref: 'v1' }));
    expect(git.calls()).toEqual([]);
    expect(new Set(runs.map((r) => r.id)).size).toBe(42);
    expect(runs.every((r) => r.sha === first && r.status === 'queued' && r.jobs.length === 1)).toBe(true);
  });

  it('builds a commit made just before it, and its push run is started too', async () => {
    const sha = await repo.commit({ 'a.txt': 'a' }, 'just before the trigger');
    const run = await trigger();
    expect(run).toMatchObject({ sha, message: 'just before the trigger', event: 'api' });
    expect(git.calls().some((c) => c.includes(' fetch '))).toBe(true);
    const repoRow = parts.store.repos.getRepoByName('web')!;
    expect(parts.store.runs.listRuns(repoRow.id).filter((r) => r.sha === sha).map((r) => r.event).sort()).toEqual(['api', 'push']);
  });

  it('shares one fetch among triggers that come at once after a commit', async () => {
    const sha = await repo.commit({ 'b.txt': 'b' }, 'a burst after this');
    git.reset();
    const runs = await Promise.all(Array.from({ length: 20 }, () => trigger()));
    expect(runs.every((r) => r.sha === sha)).toBe(true);
    // One for the triggers; the refs watcher may have started its own for the commit. Each
    // trigger syncing alone would make 20.
    expect(git.calls().filter((c) => c.includes(' fetch ')).length).toBeLessThanOrEqual(2);
  });

  it('names branches, tags (peeled to their commit) and abbreviated shas by their full commit', async () => {
    expect(await trigger({ ref: 'v1' })).toMatchObject({ ref: 'refs/tags/v1', tag: 'v1', branch: null, sha: first });
    expect(await trigger({ ref: 'refs/heads/main' })).toMatchObject({ ref: 'refs/heads/main', branch: 'main' });
    expect(await trigger({ sha: first.slice(0, 10) })).toMatchObject({ sha: first, ref: 'refs/heads/main' });
  });

  it('refuses what names nothing, with the same errors as before', async () => {
    await expect(parts.api.trigger('nope', { event: 'api' })).rejects.toMatchObject({ code: 'not_found', message: 'no repo named nope' });
    await expect(trigger({ ref: 'no-such-branch' })).rejects.toMatchObject({ code: 'not_found', message: 'no branch or tag named no-such-branch' });
    await expect(trigger({ ref: first.slice(0, 8) })).rejects.toMatchObject({ code: 'bad_input', message: `give a commit as "sha", not "ref": ${first.slice(0, 8)}` });
    await expect(trigger({ sha: 'f'.repeat(40) })).rejects.toMatchObject({ code: 'not_found', message: `ref ${'f'.repeat(40)} not found` });
    await expect(trigger({ sha: 'main' })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(trigger({ ref: '--all' })).rejects.toMatchObject({ code: 'bad_input' });
  });

  it('answers conflict when the pipeline refuses manual runs or the commit has none', async () => {
    await repo.commit({ 'pipeline.yml': `on:\n  manual: false\n${PIPELINE}` }, 'no manual runs');
    await expect(trigger()).rejects.toMatchObject({ code: 'conflict', message: 'the pipeline of web does not allow api runs (on.manual is false)' });
    const none = await repo.commit({ 'pipeline.yml': null }, 'no pipeline');
    await expect(trigger()).rejects.toMatchObject({ code: 'conflict', message: `web has no pipeline.yml at ${none.slice(0, 12)}` });
  });
});

describe('an API trigger of a remote repo', () => {
  it('needs no fetch for a sha the mirror has, and fetches otherwise', async () => {
    const remote = await createRepo();
    const one = await remote.commit({ 'pipeline.yml': PIPELINE }, 'remote one');
    await parts.triggers.register({ name: 'far', path: undefined, url: `file://${remote.path}`, pollMs: null });
    const two = await remote.commit({ 'c.txt': 'c' }, 'remote two');
    // Fetches of this repo's mirror only: the web repo's watcher may still sync the commits
    // the test before made to it.
    const farFetches = () => git.calls().filter((c) => c.includes(' fetch ') && c.includes('far.git'));
    git.reset();
    expect(await parts.api.trigger('far', { event: 'api', sha: one })).toMatchObject({ sha: one });
    expect(farFetches()).toEqual([]);
    expect(await parts.api.trigger('far', { event: 'api' })).toMatchObject({ sha: two });
    expect(farFetches(), git.calls().join('\n')).toHaveLength(1);
  });
});
