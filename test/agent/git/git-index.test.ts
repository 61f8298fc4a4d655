import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexUnreadable, parseIndex, readIndexPaths } from '../../../agent/git/git-index.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../../helpers/git.js';

let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  const files: Record<string, string> = { 'a.txt': 'a', 'src/deep/nested/name-that-is-rather-long-to-share-prefixes.ts': 'x', 'src/deep/nested/name-that-is-rather-long-too.ts': 'y', 'ünïcode.md': 'u' };
  for (let i = 0; i < 40; i++) files[`many/file-${String(i).padStart(3, '0')}.txt`] = String(i);
  await repo.commit(files);
});
afterAll(removeTempDirs);

const lsFiles = async () => (await repo.git('ls-files', '-z')).split('\0').filter(Boolean);
const indexFile = () => join(repo.path, '.git', 'index');

describe('reading the git index', () => {
  it.each([2, 3, 4])('reads every path of a version %i index, as git ls-files lists them', async (version) => {
    await repo.git('update-index', '--index-version', String(version));
    if (version === 3) {
      await writeFile(join(repo.path, 'intent.txt'), 'i');
      await repo.git('add', '--intent-to-add', 'intent.txt'); // an entry with extended flags
    }
    const { paths } = await readIndexPaths(indexFile(), 20);
    expect(paths).toEqual(await lsFiles());
    expect(paths).toContain('ünïcode.md');
  });

  it('refuses a torn or foreign file instead of guessing', async () => {
    const data = await readFile(indexFile());
    const torn = Buffer.from(data);
    torn[20] = torn[20]! ^ 0xff;
    expect(() => parseIndex(torn, 20)).toThrow(IndexUnreadable);
    expect(() => parseIndex(data.subarray(0, 30), 20)).toThrow(IndexUnreadable);
    expect(() => parseIndex(Buffer.from('not an index at all, not at all'), 20)).toThrow(IndexUnreadable);
    await expect(readIndexPaths(join(repo.path, 'missing'), 20)).rejects.toThrow(IndexUnreadable);
  });
});
