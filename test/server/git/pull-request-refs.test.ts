// A pull request's head fetched into the mirror outside its branches and tags; the fork URL
// Bitbucket pull requests are fetched from; ref names refused before they reach a refspec.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRefName, createMirrors } from '../../../server/git/mirror.js';
import { listRefs } from '../../../server/git/read.js';
import { forkCloneUrl } from '../../../server/git/remote-url.js';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs } from '../../helpers/git.js';

beforeAll(isolateGit);
afterAll(removeTempDirs);

describe('fetchRef', () => {
  it('keeps a pull request head under refs/kiln, which syncs neither list nor prune, and says when the remote lacks the ref', async () => {
    const repo = await createRepo();
    const main = await repo.commit({ 'a.txt': '1' });
    await repo.git('checkout', '--quiet', '-b', 'feature');
    const head = await repo.commit({ 'b.txt': '2' });
    await repo.git('update-ref', 'refs/pull/4/head', head);
    await repo.git('checkout', '--quiet', 'main');
    await repo.git('branch', '--quiet', '-D', 'feature');
    const mirror = join(await makeTempDir(), 'repo.git');
    const mirrors = createMirrors();
    await mirrors.fetchMirror({ path: repo.path }, mirror);

    expect(await mirrors.fetchRef({ path: repo.path }, mirror, 'refs/pull/4/head', 'refs/kiln/pull/4/head')).toBe(head);
    expect(await mirrors.fetchRef({ path: repo.path }, mirror, 'refs/pull/5/head', 'refs/kiln/pull/5/head')).toBeNull();
    expect(Object.fromEntries(await listRefs(mirror))).toEqual({ 'refs/heads/main': main });
    expect(await mirrors.fetchMirror({ path: repo.path }, mirror)).toEqual([]);
    expect(await git(mirror, 'rev-parse', 'refs/kiln/pull/4/head')).toBe(head);
    await expect(mirrors.fetchRef({ path: repo.path }, mirror, 'refs/pull/4/head', 'refs/heads/main')).rejects.toThrow('refs/heads/main is a mirrored branch or tag');
  });

  it('refuses ref names git would not take or a refspec would read as syntax', () => {
    for (const ok of ['refs/pull/3/head', 'refs/heads/feature/x-1.2', 'refs/merge-requests/7/head']) expect(() => assertRefName(ok), ok).not.toThrow();
    for (const bad of ['main', '-x', 'refs/heads/a:refs/heads/b', 'refs/heads/*', 'refs/heads/a..b', 'refs/heads/a b', 'refs/heads/x.lock', 'refs/heads/a^', '+refs/heads/a', 'refs/heads/']) {
      expect(() => assertRefName(bad), bad).toThrow(/^invalid ref/);
    }
  });
});

describe('forkCloneUrl', () => {
  it.each([
    ['https://bitbucket.org/team/web.git', 'https://bitbucket.org/sam/web.git'],
    ['https://bitbucket.org/team/web', 'https://bitbucket.org/sam/web'],
    ['git@bitbucket.org:team/web.git', 'git@bitbucket.org:sam/web.git'],
    ['ssh://git@bitbucket.org/Team/Web.git', 'ssh://git@bitbucket.org/sam/web.git'],
    ['http://127.0.0.1:4000/team/web.git', 'http://127.0.0.1:4000/sam/web.git'],
  ])('%s → %s', (url, fork) => {
    expect(forkCloneUrl(url, 'team/web', 'sam/web')).toBe(fork);
  });

  it('is null when the URL does not end with the target, or a name is not owner/repo', () => {
    expect(forkCloneUrl('https://git.example.com/other/web.git', 'team/web', 'sam/web')).toBeNull();
    expect(forkCloneUrl('https://bitbucket.org/team/web.git', 'team/web', '../web')).toBeNull();
    expect(forkCloneUrl('https://bitbucket.org/team/web.git', 'team/web', 'sam/../../x')).toBeNull();
    expect(forkCloneUrl('https://bitbucket.org/team/web.git', 'team/web', 'sam/web?x=1')).toBeNull();
  });
});
