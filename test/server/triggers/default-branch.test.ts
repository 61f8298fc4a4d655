// A repo's default branch (the one superseded runs, badges, cron and "run branch" use) is its
// source's HEAD branch: read at registration, and followed at syncs, for remote repos too (a
// remote's HEAD is asked at most once a minute by default; these parts ask at every fetch, and
// test/server/git/mirror.test.ts covers the interval).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs } from '../../helpers/git.js';
import { createTriggerParts, type TriggerParts } from './fixture.js';

let parts: TriggerParts;

beforeAll(async () => {
  await isolateGit();
  parts = await createTriggerParts({ remoteHeadEveryMs: 0 });
});
afterAll(async () => {
  await parts.stop();
  await removeTempDirs();
});

describe('the default branch', () => {
  it('of a remote is its HEAD branch, at registration and after it changes on the remote', async () => {
    const work = await createRepo();
    await work.commit({ 'pipeline.yml': 'jobs:\n  a:\n    steps: [{ run: "true" }]\n' });
    await work.git('branch', 'trunk');
    await work.git('branch', 'dev');
    const remote = `${await makeTempDir('kiln-remote-')}/far.git`;
    await git(work.path, 'clone', '--quiet', '--bare', work.path, remote);
    await git(remote, 'symbolic-ref', 'HEAD', 'refs/heads/trunk');

    const repo = await parts.triggers.register({ name: 'far', url: `file://${remote}` });
    expect(repo.defaultBranch).toBe('trunk');

    await git(remote, 'symbolic-ref', 'HEAD', 'refs/heads/dev');
    await parts.triggers.sync(parts.store.repos.getRepo(repo.id)!);
    expect(parts.store.repos.getRepo(repo.id)!.defaultBranch).toBe('dev');

    // A HEAD naming a branch the remote does not have changes nothing.
    await git(remote, 'symbolic-ref', 'HEAD', 'refs/heads/gone');
    await parts.triggers.sync(parts.store.repos.getRepo(repo.id)!);
    expect(parts.store.repos.getRepo(repo.id)!.defaultBranch).toBe('dev');
  });

  it('of a local repo follows its HEAD branch', async () => {
    const local = await createRepo();
    await local.commit({ 'pipeline.yml': 'jobs:\n  a:\n    steps: [{ run: "true" }]\n' });
    const repo = await parts.triggers.register({ name: 'near', path: local.path });
    expect(repo.defaultBranch).toBe('main');
    await local.git('checkout', '--quiet', '-b', 'release');
    await local.commit({ 'b.txt': 'b' });
    await parts.triggers.sync(parts.store.repos.getRepo(repo.id)!);
    expect(parts.store.repos.getRepo(repo.id)!.defaultBranch).toBe('release');
  });
});
