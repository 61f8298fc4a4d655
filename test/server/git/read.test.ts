import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMirrors } from '../../../server/git/mirror.js';
import { changedPaths, commitInfo, defaultBranch, listRefs, readFileAtCommit, resolveRef } from '../../../server/git/read.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../../helpers/git.js';

let repo: TestRepo;
let mirror: string;
const sha: Record<string, string> = {};

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  sha.root = await repo.commit({ 'pipeline.yml': 'name: one\n', 'src/a.ts': 'a', 'README.md': 'hi' }, 'first: the root');
  sha.second = await repo.commit({ 'pipeline.yml': 'name: two\n', 'src/b.ts': 'b' }, 'second');
  await repo.git('tag', 'light', sha.root!);
  await repo.git('tag', '-a', '-m', 'release one', 'v1', sha.second!);
  await repo.git('checkout', '--quiet', '-b', 'feature');
  sha.f1 = await repo.commit({ 'docs/x.md': 'x' }, 'feature one');
  sha.f2 = await repo.commit({ 'src/a.ts': 'a2', 'README.md': null }, 'feature two');
  await repo.git('checkout', '--quiet', 'main');
  sha.big = await repo.git('commit-tree', '-m', 'big', '-p', sha.second!, await bigTree());
  await repo.git('update-ref', 'refs/heads/big', sha.big);
  mirror = join(await makeTempDir(), 'repo.git');
  await createMirrors().fetchMirror({ path: repo.path }, mirror);
});
afterAll(removeTempDirs);

async function bigTree(): Promise<string> {
  await writeFile(join(repo.path, 'big.bin'), Buffer.alloc(1024 * 1024 + 1, 'x'));
  await repo.git('add', 'big.bin');
  const tree = await repo.git('write-tree');
  await repo.git('rm', '--cached', '--quiet', 'big.bin');
  return tree;
}

describe('readFileAtCommit', () => {
  it('reads the committed content, not the work tree', async () => {
    await writeFile(join(repo.path, 'pipeline.yml'), 'name: uncommitted\n');
    await createMirrors().fetchMirror({ path: repo.path }, mirror);
    expect(await readFileAtCommit(mirror, sha.second!, 'pipeline.yml')).toBe('name: two\n');
    expect(await readFileAtCommit(mirror, sha.root!, 'pipeline.yml')).toBe('name: one\n');
  });

  it('gives null for a missing file or a directory', async () => {
    expect(await readFileAtCommit(mirror, sha.root!, 'nope.yml')).toBeNull();
    expect(await readFileAtCommit(mirror, sha.root!, 'src')).toBeNull();
  });

  it('refuses a file over the cap with too_large, an unknown commit with not_found, and bad paths', async () => {
    await expect(readFileAtCommit(mirror, sha.big!, 'big.bin')).rejects.toMatchObject({ code: 'too_large' });
    expect(await readFileAtCommit(mirror, sha.big!, 'big.bin', 2 * 1024 * 1024)).toHaveLength(1024 * 1024 + 1);
    await expect(readFileAtCommit(mirror, 'f'.repeat(40), 'pipeline.yml')).rejects.toMatchObject({ code: 'not_found' });
    for (const bad of ['../etc/passwd', 'a/../../b', '-x', '']) {
      await expect(readFileAtCommit(mirror, sha.root!, bad)).rejects.toMatchObject({ code: 'bad_input' });
    }
    await expect(readFileAtCommit(mirror, 'HEAD', 'x')).rejects.toMatchObject({ code: 'bad_input' });
  });
});

describe('refs and commits', () => {
  it('resolves branches, tags (annotated ones to their commit) and shas', async () => {
    expect(await resolveRef(mirror, 'main')).toBe(sha.second);
    expect(await resolveRef(mirror, 'refs/heads/feature')).toBe(sha.f2);
    expect(await resolveRef(mirror, 'v1')).toBe(sha.second);
    expect(await resolveRef(mirror, sha.root!.slice(0, 12))).toBe(sha.root);
    await expect(resolveRef(mirror, 'no-such-branch')).rejects.toMatchObject({ code: 'not_found' });
    await expect(resolveRef(mirror, '--all')).rejects.toMatchObject({ code: 'bad_input' });
  });

  it('lists heads and tags with annotated tags peeled', async () => {
    expect(Object.fromEntries(await listRefs(mirror))).toEqual({
      'refs/heads/big': sha.big, 'refs/heads/feature': sha.f2, 'refs/heads/main': sha.second,
      'refs/tags/light': sha.root, 'refs/tags/v1': sha.second,
    });
  });

  it('describes a commit with its subject, author and time', async () => {
    const info = await commitInfo(mirror, sha.root!);
    expect(info).toMatchObject({ sha: sha.root, message: 'first: the root', author: 'Kiln Test', authorEmail: 'test@kiln.invalid' });
    expect(Math.abs(Date.parse(info.time) - Date.now())).toBeLessThan(60_000);
    await expect(commitInfo(mirror, 'a'.repeat(40))).rejects.toMatchObject({ code: 'not_found' });
  });

  it("names HEAD's branch for the work tree and the mirror", async () => {
    expect(await defaultBranch(repo.path)).toBe('main');
    expect(await defaultBranch(mirror)).toBe('main');
  });
});

describe('changedPaths', () => {
  it('diffs two commits', async () => {
    expect(await changedPaths(mirror, sha.root!, sha.second!)).toEqual(['pipeline.yml', 'src/b.ts']);
    expect(await changedPaths(mirror, sha.second!, sha.f2!)).toEqual(['README.md', 'docs/x.md', 'src/a.ts']);
  });

  it('for a new branch lists the files of the commits only that branch has', async () => {
    expect(await changedPaths(mirror, null, sha.f2!, { ref: 'refs/heads/feature' })).toEqual(['README.md', 'docs/x.md', 'src/a.ts']);
    expect(await changedPaths(mirror, '0'.repeat(40), sha.f2!, { ref: 'refs/heads/feature' })).toHaveLength(3);
  });

  it("without a ref uses the head commit's first-parent diff, and all files for a root commit", async () => {
    expect(await changedPaths(mirror, null, sha.f2!)).toEqual(['README.md', 'src/a.ts']);
    expect(await changedPaths(mirror, null, sha.root!)).toEqual(['README.md', 'pipeline.yml', 'src/a.ts']);
  });

  it('treats an unknown before as a new branch and a deletion as no change', async () => {
    expect(await changedPaths(mirror, 'b'.repeat(40), sha.second!)).toEqual(['pipeline.yml', 'src/b.ts']);
    expect(await changedPaths(mirror, sha.second!, '0'.repeat(40))).toEqual([]);
  });
});
