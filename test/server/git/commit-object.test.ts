// Commit objects read from their raw bytes say what `git log --format=%s/%an/%ae/%at` says.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommit } from '../../../server/git/commit-object.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../../helpers/git.js';

const exec = promisify(execFile);
let repo: TestRepo;
let tree: string;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit({ 'a.txt': 'a' });
  tree = await repo.git('rev-parse', 'HEAD^{tree}');
});
afterAll(removeTempDirs);

/** Writes a commit object with exactly these bytes after the tree line; resolves with its sha. */
async function rawCommit(rest: string): Promise<string> {
  const child = exec('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo.path });
  child.child.stdin!.end(`tree ${tree}\n${rest}`);
  return (await child).stdout.trim();
}

const AUTHOR = 'author Ada Lovelace <ada@example.org> 1700000000 +0100\ncommitter C <c@example.org> 1700000500 +0000\n';
const cases: Record<string, string> = {
  'a plain subject and body': `${AUTHOR}\nfix the build\n\nthe body\n`,
  'a two-line first paragraph, trailing spaces': `${AUTHOR}\nfirst line   \nsecond line\n\nbody\n`,
  'blank lines before the subject': `${AUTHOR}\n\n\n  indented subject\n`,
  'a signature header over several lines': `${AUTHOR}gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned één ✓\n`,
  'no message at all': `${AUTHOR}`,
  'an empty message': `${AUTHOR}\n`,
};

describe('parseCommit', () => {
  for (const [name, rest] of Object.entries(cases)) {
    it(`agrees with git log for ${name}`, async () => {
      const sha = await rawCommit(rest);
      const [subject, author, email, at] = (await exec('git', ['log', '-1', '--format=%s%x00%an%x00%ae%x00%at', sha], { cwd: repo.path })).stdout.replace(/\n$/, '').split('\0');
      const raw = (await exec('git', ['cat-file', 'commit', sha], { cwd: repo.path, encoding: 'buffer' })).stdout;
      expect(parseCommit(raw)).toEqual({ message: subject, body: expect.any(String), author, authorEmail: email, time: new Date(Number(at) * 1000).toISOString() });
    });
  }

  it('keeps the whole message as the body, past the subject', async () => {
    const raw = (await exec('git', ['cat-file', 'commit', await rawCommit(`${AUTHOR}\nsubject\n\nmore words\n\nCo-authored-by: x [skip ci]\n`)], { cwd: repo.path, encoding: 'buffer' })).stdout;
    expect(parseCommit(raw)).toMatchObject({ message: 'subject', body: 'subject\n\nmore words\n\nCo-authored-by: x [skip ci]\n' });
  });
});
