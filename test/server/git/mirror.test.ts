import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMirrors } from '../../../server/git/mirror.js';
import { defaultBranch, listRefs } from '../../../server/git/read.js';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs } from '../../helpers/git.js';

beforeAll(isolateGit);
afterAll(removeTempDirs);

describe('mirrors', () => {
  it('creates a bare mirror of branches, tags and HEAD once, then leaves it to fetchMirror', async () => {
    const repo = await createRepo();
    const first = await repo.commit({ 'a.txt': '1' });
    await repo.git('tag', 'v1');
    await repo.git('branch', 'other');
    const mirror = join(await makeTempDir(), 'nested', 'repo.git');
    const mirrors = createMirrors();

    expect(await mirrors.ensureMirror({ path: repo.path }, mirror)).toBe(true);
    expect(await git(mirror, 'rev-parse', '--is-bare-repository')).toBe('true');
    expect(Object.fromEntries(await listRefs(mirror))).toEqual({
      'refs/heads/main': first, 'refs/heads/other': first, 'refs/tags/v1': first,
    });
    expect(await defaultBranch(mirror)).toBe('main');

    await repo.commit({ 'a.txt': '2' });
    expect(await mirrors.ensureMirror({ path: repo.path }, mirror)).toBe(false);
    expect((await listRefs(mirror)).get('refs/heads/main')).toBe(first);
  });

  it('fetches new commits, branches and tags, prunes deleted ones, and reports what changed', async () => {
    const repo = await createRepo();
    const one = await repo.commit({ 'a.txt': '1' });
    await repo.git('branch', 'gone');
    const mirror = join(await makeTempDir(), 'repo.git');
    const mirrors = createMirrors({ remoteHeadEveryMs: 0 }); // the file:// fetch below asks the remote's HEAD
    expect(await mirrors.fetchMirror({ path: repo.path }, mirror)).toEqual([
      { ref: 'refs/heads/gone', before: null, after: one },
      { ref: 'refs/heads/main', before: null, after: one },
    ]);

    const two = await repo.commit({ 'a.txt': '2' });
    await repo.git('branch', '--quiet', '-D', 'gone');
    await repo.git('tag', '-a', '-m', 'v2', 'v2');
    await repo.git('checkout', '--quiet', '-b', 'dev');
    expect(await mirrors.fetchMirror({ url: `file://${repo.path}` }, mirror)).toEqual([
      { ref: 'refs/heads/dev', before: null, after: two },
      { ref: 'refs/heads/gone', before: one, after: null },
      { ref: 'refs/heads/main', before: one, after: two },
      { ref: 'refs/tags/v2', before: null, after: two },
    ]);
    expect(await defaultBranch(mirror)).toBe('dev');
    expect(await mirrors.fetchMirror({ path: repo.path }, mirror)).toEqual([]);
  });

  it('serializes concurrent fetches of one mirror: each change is reported exactly once', async () => {
    const repo = await createRepo();
    await repo.commit({ 'a.txt': '1' });
    const mirror = join(await makeTempDir(), 'repo.git');
    const mirrors = createMirrors();
    await mirrors.ensureMirror({ path: repo.path }, mirror);
    await repo.commit({ 'a.txt': '2' });
    await repo.git('branch', 'b1');
    const results = await Promise.all(Array.from({ length: 6 }, () => mirrors.fetchMirror({ path: repo.path }, mirror)));
    expect(results.flat().map((c) => c.ref).sort()).toEqual(['refs/heads/b1', 'refs/heads/main']);
  });

  it("follows a local source's HEAD on every fetch, and a remote's at most every remoteHeadEveryMs", async () => {
    const repo = await createRepo();
    await repo.commit({ 'a.txt': '1' });
    const local = join(await makeTempDir(), 'local.git');
    const remote = join(await makeTempDir(), 'remote.git');
    const mirrors = createMirrors({ remoteHeadEveryMs: 3_600_000 });
    await mirrors.fetchMirror({ path: repo.path }, local);
    await mirrors.fetchMirror({ url: `file://${repo.path}` }, remote);
    expect([await defaultBranch(local), await defaultBranch(remote)]).toEqual(['main', 'main']);

    await repo.git('checkout', '--quiet', '-b', 'dev');
    await mirrors.fetchMirror({ path: repo.path }, local);
    await mirrors.fetchMirror({ url: `file://${repo.path}` }, remote);
    expect(await defaultBranch(local)).toBe('dev');
    expect(await defaultBranch(remote)).toBe('main'); // asked less than an hour ago: not yet
    expect((await listRefs(remote)).has('refs/heads/dev')).toBe(true); // the fetch itself ran
  });

  it('leaves no mirror behind when the first fetch fails, and refuses option-like sources', async () => {
    const mirror = join(await makeTempDir(), 'repo.git');
    const mirrors = createMirrors();
    await expect(mirrors.ensureMirror({ path: join(mirror, 'no-such-repo') }, mirror)).rejects.toThrow(/git fetch failed/);
    await expect(stat(mirror)).rejects.toThrow();
    await expect(mirrors.fetchMirror({ url: '--upload-pack=touch /tmp/x' }, mirror)).rejects.toMatchObject({ code: 'bad_input' });
    await expect(mirrors.fetchMirror({ url: 'ext::sh -c touch% /tmp/pwned' }, mirror)).rejects.toThrow(/git fetch failed/);
  });
});
