import { chmod, lstat, mkdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckout, type Checkout } from '../../../agent/git/checkout.js';
import { createMirrors } from '../../../server/git/mirror.js';
import {
  createRepo, git, isolateGit, makeTempDir, removeTempDirs, serveGitMirrors, type GitHttpServer,
} from '../../helpers/git.js';
import { snapshotTree } from './tree-snapshot.js';

const TOKEN = 'agent-tok-unchanged-1';
const touch = (...args: string[]) => promisify(execFile)('touch', args);
let server: GitHttpServer;
let mirror: string;
let cacheDir: string;
let calls: string;
let realPath: string | undefined;
const sha: Record<string, string> = {};

beforeAll(async () => {
  await isolateGit();
  const repo = await createRepo();
  sha.old = await repo.commit({ 'pipeline.yml': 'name: old\n', 'src/x.ts': 'x', '.gitignore': 'build/\n' }, 'old');
  await symlink('pipeline.yml', join(repo.path, 'link.yml'));
  await writeFile(join(repo.path, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(repo.path, 'run.sh'), 0o755);
  sha.new = await repo.commit({ 'pipeline.yml': 'name: new\n', 'src/deep/y.ts': 'y' }, 'new');
  mirror = join(await makeTempDir(), 'web.git');
  await createMirrors().fetchMirror({ path: repo.path }, mirror);
  const big = await createRepo();
  sha.big = await big.commit(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f/${i}.txt`, String(i)])));
  const bigMirror = join(await makeTempDir(), 'big.git');
  await createMirrors().fetchMirror({ path: big.path }, bigMirror);
  server = await serveGitMirrors({ web: mirror, big: bigMirror }, TOKEN);
  cacheDir = join(await makeTempDir(), 'cache');
  // Every git the checkout runs goes through a wrapper that writes down its subcommand.
  const wrapper = await makeTempDir('kiln-gitwrap-');
  calls = join(wrapper, 'calls.log');
  const realGit = (await git(process.cwd(), '--exec-path')) + '/git';
  await writeFile(join(wrapper, 'git'), `#!/bin/sh\necho "$*" >> ${JSON.stringify(calls)}\nexec ${JSON.stringify(realGit)} "$@"\n`);
  await chmod(join(wrapper, 'git'), 0o755);
  realPath = process.env.PATH;
  process.env.PATH = `${wrapper}:${realPath}`;
});
afterAll(async () => {
  process.env.PATH = realPath;
  await server?.close();
  await removeTempDirs();
});

/** A workspace checked out at `commit` by `checkout`. */
const workspace = async (checkout: Checkout, commit: string) => {
  const ws = join(await makeTempDir('kiln-ws-'), 'ws');
  await checkout.checkout({ repo: 'web', sha: commit, workspaceDir: ws });
  return ws;
};
/** The git subcommands one checkout ran, and its result. */
const counted = async (checkout: Checkout, ws: string, commit: string, repo = 'web') => {
  await rm(calls, { force: true });
  const result = await checkout.checkout({ repo, sha: commit, workspaceDir: ws });
  const lines = (await readFile(calls, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  return { result, gits: lines.map((l) => l.replace(/^(-c \S+ )*/, '').split(' ')[0]) };
};
/** An index written well after its files, as after a later checkout: no entry is racily clean, so stat alone decides. */
const settle = (ws: string) => utimes(join(ws, '.git/index'), new Date(), new Date(Date.now() + 3_600_000));
const freshClone = async (commit: string) => {
  const dir = join(await makeTempDir('kiln-fresh-'), 'c');
  await git(process.cwd(), 'clone', '--quiet', '--no-checkout', mirror, dir);
  await git(dir, 'checkout', '--quiet', '--detach', commit);
  return dir;
};
const expectFresh = async (ws: string, commit: string) => {
  expect(await snapshotTree(ws)).toEqual(await snapshotTree(await freshClone(commit)));
  expect(await git(ws, 'rev-parse', 'HEAD')).toBe(commit);
  expect(await git(ws, 'status', '--porcelain', '--ignored')).toBe('');
};

describe('agent checkout of a workspace already at the commit', () => {
  it('runs no git process: untracked, ignored and nested-repo files go, and it equals a fresh clone', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace(checkout, sha.new!);
    await writeFile(join(ws, 'untracked.txt'), 'u');
    await mkdir(join(ws, 'build/out'), { recursive: true });
    await writeFile(join(ws, 'build/out/app.js'), 'ignored');
    await mkdir(join(ws, 'src/new-dir/nested/.git'), { recursive: true });
    await symlink('/', join(ws, 'escape'));
    for (let i = 0; i < 2; i++) {
      const { result, gits } = await counted(checkout, ws, sha.new!);
      expect(gits).toEqual([]);
      expect(result).toMatchObject({ reused: true, fetched: false, sha: sha.new });
    }
    await expectFresh(ws, sha.new!);
  });

  it('notices a tracked file changed with its size and mtime put back (by its ctime), and checks it out again', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace(checkout, sha.new!);
    await settle(ws);
    const file = join(ws, 'pipeline.yml');
    const saved = join(ws, '..', 'times');
    await touch('-r', file, saved); // `touch -r` copies times to the nanosecond, which utimes cannot
    const before = await stat(file, { bigint: true });
    await writeFile(file, 'name: bad\n'); // the same size as `name: new\n`
    await touch('-r', saved, file);
    const after = await stat(file, { bigint: true });
    expect([after.mtimeNs, after.size]).toEqual([before.mtimeNs, before.size]);
    expect((await counted(checkout, ws, sha.new!)).gits).toEqual(['checkout']);
    expect(await readFile(file, 'utf8')).toBe('name: new\n');
    await expectFresh(ws, sha.new!);
  });

  it('runs git after a file was deleted, re-moded, or replaced by a symbolic link or a folder', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const changes: Array<(ws: string) => Promise<void>> = [
      (ws) => rm(join(ws, 'src/deep/y.ts')),
      (ws) => chmod(join(ws, 'run.sh'), 0o644),
      async (ws) => { await rm(join(ws, 'link.yml')); await symlink('/etc/passwd', join(ws, 'link.yml')); },
      async (ws) => { await rm(join(ws, 'src/x.ts')); await mkdir(join(ws, 'src/x.ts')); },
    ];
    for (const change of changes) {
      const ws = await workspace(checkout, sha.new!);
      await change(ws);
      expect((await counted(checkout, ws, sha.new!)).gits).toEqual(['checkout']);
      await expectFresh(ws, sha.new!);
    }
  });

  it('is not fooled by a tracked folder swapped for a symbolic link to the same files moved elsewhere', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace(checkout, sha.new!);
    await settle(ws);
    const away = join(await makeTempDir('kiln-away-'), 'src');
    await rename(join(ws, 'src'), away); // the files keep their inodes and ctimes
    await symlink(away, join(ws, 'src'));
    await counted(checkout, ws, sha.new!);
    expect((await lstat(join(ws, 'src'))).isDirectory()).toBe(true);
    expect(await readFile(join(away, 'x.ts'), 'utf8')).toBe('x'); // never followed
    await expectFresh(ws, sha.new!);
  });

  it('lets git undo what a job did with git: a staged file, a moved HEAD, a hook', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const changes: Array<(ws: string) => Promise<unknown>> = [
      async (ws) => { await writeFile(join(ws, 'staged.txt'), 's'); await git(ws, 'add', 'staged.txt'); },
      (ws) => git(ws, 'checkout', '--quiet', '--detach', sha.old!),
      async (ws) => { await mkdir(join(ws, '.git/hooks')); await writeFile(join(ws, '.git/hooks/post-checkout'), '#!/bin/sh\ntouch hook-ran\n', { mode: 0o755 }); },
    ];
    for (const change of changes) {
      const ws = await workspace(checkout, sha.new!);
      await change(ws);
      expect((await counted(checkout, ws, sha.new!)).gits).toEqual(['checkout']);
      expect(existsSync(join(ws, 'hook-ran'))).toBe(false);
      expect(existsSync(join(ws, '.git/hooks'))).toBe(false);
      await expectFresh(ws, sha.new!);
    }
  });

  it('writes back a .git/config a job changed, without git', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace(checkout, sha.new!);
    const config = await readFile(join(ws, '.git/config'), 'utf8');
    await writeFile(join(ws, '.git/config'), `${config}[user]\n\tname = job\n`);
    expect((await counted(checkout, ws, sha.new!)).gits).toEqual([]);
    expect(await readFile(join(ws, '.git/config'), 'utf8')).toBe(config);
  });

  it('compares racily clean files (changed in the tick the index was written) by content', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace(checkout, sha.new!);
    // An index older than its files: every entry is racily clean, and their contents decide.
    await utimes(join(ws, '.git/index'), new Date(1_000_000_000_000), new Date(1_000_000_000_000));
    expect((await counted(checkout, ws, sha.new!)).gits).toEqual([]);
    await expectFresh(ws, sha.new!);
  });

  it('runs git for another commit, and once in a new agent process, which has not seen the workspace', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace(checkout, sha.new!);
    expect((await counted(checkout, ws, sha.old!)).gits).toEqual(['checkout']);
    await expectFresh(ws, sha.old!);
    const restarted = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    expect((await counted(restarted, ws, sha.old!)).gits).toEqual(['checkout']);
    expect((await counted(restarted, ws, sha.old!)).gits).toEqual([]);
  });

  it('leaves a repo of more than 256 tracked files to git, which stats them on threads of its own', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = join(await makeTempDir('kiln-ws-'), 'ws');
    await checkout.checkout({ repo: 'big', sha: sha.big!, workspaceDir: ws });
    await writeFile(join(ws, 'junk.txt'), 'j');
    expect((await counted(checkout, ws, sha.big!, 'big')).gits).toEqual(['checkout']);
    expect(existsSync(join(ws, 'junk.txt'))).toBe(false);
  });
});
