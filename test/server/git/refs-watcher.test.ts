import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffRefs, watchRefs } from '../../../server/git/refs-watcher.js';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../../helpers/git.js';

beforeAll(isolateGit);
afterAll(removeTempDirs);

describe('diffRefs', () => {
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  it.each([
    ['nothing to nothing', {}, {}, []],
    ['unchanged refs', { 'refs/heads/main': a }, { 'refs/heads/main': a }, []],
    ['a new branch', {}, { 'refs/heads/x': a }, [{ ref: 'refs/heads/x', before: null, after: a }]],
    ['a moved branch', { 'refs/heads/main': a }, { 'refs/heads/main': b }, [{ ref: 'refs/heads/main', before: a, after: b }]],
    ['a deleted tag', { 'refs/tags/v1': a }, {}, [{ ref: 'refs/tags/v1', before: a, after: null }]],
    ['all at once, sorted by ref', { 'refs/tags/v1': a, 'refs/heads/main': a, 'refs/heads/keep': a },
      { 'refs/heads/main': b, 'refs/heads/keep': a, 'refs/heads/new': b },
      [{ ref: 'refs/heads/main', before: a, after: b }, { ref: 'refs/heads/new', before: null, after: b },
        { ref: 'refs/tags/v1', before: a, after: null }]],
  ])('%s', (_name, before, after, expected) => {
    expect(diffRefs(new Map(Object.entries(before)), new Map(Object.entries(after)))).toEqual(expected);
  });
});

/** Resolves with the milliseconds until the next callback after `action`; fails after 2 s. */
function timeCallback(calls: { count: number }, action: () => Promise<unknown>): Promise<number> {
  const start = Date.now();
  const seen = calls.count;
  return action().then(() => new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (calls.count > seen) { clearInterval(poll); resolve(Date.now() - start); }
      else if (Date.now() - start > 2000) { clearInterval(poll); reject(new Error('no callback within 2 s')); }
    }, 10);
  }));
}

describe('watchRefs', () => {
  let repo: TestRepo;
  beforeAll(async () => {
    repo = await createRepo();
    await repo.commit({ 'a.txt': '1' });
  });

  it('notices a commit, a new branch, a new tag and pack-refs within 2 s, but not work-tree edits', async () => {
    const calls = { count: 0 };
    const watcher = await watchRefs(repo.path, () => { calls.count += 1; });
    try {
      expect(await timeCallback(calls, () => repo.commit({ 'a.txt': '2' }))).toBeLessThan(2000);
      expect(await timeCallback(calls, () => repo.git('branch', 'feature/x'))).toBeLessThan(2000);
      expect(await timeCallback(calls, () => repo.git('tag', '-a', '-m', 'one', 'v1'))).toBeLessThan(2000);
      expect(await timeCallback(calls, () => repo.git('pack-refs', '--all'))).toBeLessThan(2000);
      expect(await timeCallback(calls, () => repo.commit({ 'a.txt': '3' }))).toBeLessThan(2000);

      const before = calls.count;
      await writeFile(join(repo.path, 'a.txt'), 'edited, not committed');
      await repo.git('add', 'a.txt');
      await new Promise((r) => setTimeout(r, 500));
      expect(calls.count).toBe(before);
    } finally {
      await watcher.close();
    }
  });

  it('watches a bare repository, and stops after close()', async () => {
    const bare = join(await makeTempDir(), 'bare.git');
    await git(repo.path, 'clone', '--quiet', '--bare', repo.path, bare);
    const calls = { count: 0 };
    const watcher = await watchRefs(bare, () => { calls.count += 1; });
    await timeCallback(calls, () => repo.git('push', '--quiet', bare, 'HEAD:refs/heads/pushed'));
    await watcher.close();
    const after = calls.count;
    await repo.git('push', '--quiet', bare, 'HEAD:refs/heads/later');
    await new Promise((r) => setTimeout(r, 400));
    expect(calls.count).toBe(after);
  });

  it('refuses a folder that is not a repository', async () => {
    await expect(watchRefs(await makeTempDir(), () => {})).rejects.toThrow(/not a git repository/);
  });
});
