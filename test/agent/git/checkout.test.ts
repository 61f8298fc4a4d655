import { chmod, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckout } from '../../../agent/git/checkout.js';
import { createTrash } from '../../../agent/jobs/trash.js';
import pino from 'pino';
import { createMirrors } from '../../../server/git/mirror.js';
import {
  createRepo, git, isolateGit, makeTempDir, removeTempDirs, serveGitMirrors, type GitHttpServer, type TestRepo,
} from '../../helpers/git.js';
import { snapshotTree } from './tree-snapshot.js';

const TOKEN = 'agent-tok-7f3a9c';
const mirrors = createMirrors();
let server: GitHttpServer;
let repo: TestRepo;
let mirror: string;
let cacheDir: string;
const sha: Record<string, string> = {};

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  sha.old = await repo.commit({ 'pipeline.yml': 'name: old\n', 'gone.txt': 'bye', '.gitignore': 'build/\n*.log\n' }, 'the old one');
  await symlink('pipeline.yml', join(repo.path, 'link.yml'));
  await writeFile(join(repo.path, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(repo.path, 'run.sh'), 0o755);
  sha.new = await repo.commit({ 'pipeline.yml': 'name: new\n', 'gone.txt': null, 'src/x.ts': 'x', 'src/deep/y.ts': 'y' }, 'the new one');
  mirror = join(await makeTempDir(), 'web.git');
  await mirrors.fetchMirror({ path: repo.path }, mirror);
  server = await serveGitMirrors({ web: mirror }, TOKEN);
  cacheDir = join(await makeTempDir(), 'cache');
});
afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

const workspace = async () => join(await makeTempDir('kiln-ws-'), 'ws');
/** A fresh clone of the mirror at `commit`, made by git alone, to compare with. */
const freshClone = async (commit: string) => {
  const dir = join(await makeTempDir('kiln-fresh-'), 'c');
  await git(process.cwd(), 'clone', '--quiet', '--no-checkout', mirror, dir);
  await git(dir, 'checkout', '--quiet', '--detach', commit);
  return dir;
};

describe('agent checkout', () => {
  it('checks out an exact older commit into a new workspace through the server', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: `${server.url}/`, token: TOKEN });
    const ws = await workspace();
    expect(await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws })).toEqual({ sha: sha.old, workspaceDir: ws, fetched: true, reused: false, durationMs: expect.any(Number) });
    expect(await readFile(join(ws, 'pipeline.yml'), 'utf8')).toBe('name: old\n');
    expect((await readdir(ws)).sort()).toEqual(['.git', '.gitignore', 'gone.txt', 'pipeline.yml']);
    expect(await git(ws, 'log', '-1', '--format=%H %s')).toBe(`${sha.old} the old one`);
    expect(await git(ws, 'status', '--porcelain')).toBe('');
    expect(await git(ws, 'remote', 'get-url', 'origin')).toBe(`${server.url}/git/web.git`);
    expect(await readFile(join(cacheDir, 'web.git', 'config'), 'utf8')).not.toContain(TOKEN);
    expect(await readFile(join(ws, '.git', 'config'), 'utf8')).not.toContain(TOKEN);
  });

  it('reuses a workspace: after untracked, ignored, modified, deleted and re-moded files it equals a fresh clone', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    await checkout.checkout({ repo: 'web', sha: sha.new!, workspaceDir: ws });
    // What a job leaves behind.
    await writeFile(join(ws, 'untracked.txt'), 'u');
    await mkdir(join(ws, 'build/out'), { recursive: true });
    await writeFile(join(ws, 'build/out/app.js'), 'ignored');
    await writeFile(join(ws, 'src/debug.log'), 'ignored too');
    await mkdir(join(ws, 'src/new-dir'));
    await writeFile(join(ws, 'pipeline.yml'), 'changed');
    await rm(join(ws, 'src/deep/y.ts'));
    await chmod(join(ws, 'run.sh'), 0o644);
    await rm(join(ws, 'link.yml'));
    await symlink('/etc/passwd', join(ws, 'link.yml'));
    await symlink('/', join(ws, 'escape'));
    await mkdir(join(ws, 'nested/.git'), { recursive: true });
    await writeFile(join(ws, '.git/hooks-were-here'), '');
    await mkdir(join(ws, '.git/hooks'), { recursive: true });
    await writeFile(join(ws, '.git/hooks/post-checkout'), '#!/bin/sh\ntouch "$PWD/hook-ran"\n');
    await chmod(join(ws, '.git/hooks/post-checkout'), 0o755);
    for (const target of [sha.new!, sha.old!, sha.new!]) {
      const result = await checkout.checkout({ repo: 'web', sha: target, workspaceDir: ws });
      expect(result).toMatchObject({ reused: true, fetched: false });
      expect(await snapshotTree(ws)).toEqual(await snapshotTree(await freshClone(target)));
      expect(await git(ws, 'rev-parse', 'HEAD')).toBe(target);
      expect(await git(ws, 'status', '--porcelain', '--ignored')).toBe('');
    }
    expect(existsSync(join(ws, 'hook-ran'))).toBe(false);
  });

  it('with the agent\'s trash: what a clean takes out waits outside the workspace, and is removed once no job runs', async () => {
    const trashDir = join(await makeTempDir('kiln-trash-'), 'trash');
    let busy = true;
    const trash = createTrash(trashDir, { busy: () => busy, logger: pino({ level: 'silent' }) });
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN, remove: (path) => trash.put(path) });
    const ws = await workspace();
    await checkout.checkout({ repo: 'web', sha: sha.new!, workspaceDir: ws });
    await mkdir(join(ws, 'node_modules/a/b'), { recursive: true });
    await writeFile(join(ws, 'node_modules/a/b/index.js'), 'x');
    await writeFile(join(ws, 'src/debug.log'), 'ignored');
    await symlink('/', join(ws, 'escape'));
    for (const target of [sha.old!, sha.new!]) {
      expect(await checkout.checkout({ repo: 'web', sha: target, workspaceDir: ws })).toMatchObject({ reused: true });
      expect(await snapshotTree(ws)).toEqual(await snapshotTree(await freshClone(target)));
    }
    // Moved whole: the folder with its file, the ignored file, and the link as a link (never followed).
    const held = await readdir(trashDir);
    expect(held).toHaveLength(3);
    const names = (await Promise.all(held.map((n) => readdir(join(trashDir, n)).then((inside) => `${n}: ${inside.join(',')}`, () => `${n}: not a folder`))));
    expect(names.filter((n) => n.endsWith(': a'))).toHaveLength(1);
    expect(existsSync('/etc/passwd')).toBe(true);
    await trash.empty(); // a job runs: it waits
    expect(await readdir(trashDir)).toHaveLength(3);
    busy = false;
    await trash.empty();
    expect(await readdir(trashDir)).toEqual([]);
  });

  it('runs no git process for the commit the workspace is at, one for another commit it has, and no more than three when only the cache has it', async () => {
    const wrapper = await makeTempDir('kiln-gitwrap-');
    const calls = join(wrapper, 'calls.log');
    const realGit = (await git(process.cwd(), '--exec-path')) + '/git';
    await writeFile(join(wrapper, 'git'), `#!/bin/sh\necho "$*" >> ${JSON.stringify(calls)}\nexec ${JSON.stringify(realGit)} "$@"\n`);
    await chmod(join(wrapper, 'git'), 0o755);
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws });
    const path = process.env.PATH;
    process.env.PATH = `${wrapper}:${path}`;
    const counted = async (target: string) => {
      await rm(calls, { force: true });
      await writeFile(join(ws, 'junk.txt'), 'j');
      await checkout.checkout({ repo: 'web', sha: target, workspaceDir: ws });
      const lines = (await readFile(calls, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
      return lines.map((l) => l.replace(/^(-c \S+ )*/, '').split(' ')[0]);
    };
    try {
      expect(await counted(sha.old!)).toEqual([]);
      expect(existsSync(join(ws, 'junk.txt'))).toBe(false);
      expect(await counted(sha.new!)).toEqual(['checkout']); // the clone from the cache had it
      const other = await workspace();
      await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: other });
      sha.third = await repo.commit({ 'third.txt': '3' }, 'third');
      await mirrors.fetchMirror({ path: repo.path }, mirror);
      await checkout.checkout({ repo: 'web', sha: sha.third, workspaceDir: other }); // the cache fetches it
      expect(await counted(sha.third)).toEqual(['checkout', 'fetch', 'checkout']);
    } finally {
      process.env.PATH = path;
    }
    expect(existsSync(join(ws, 'junk.txt'))).toBe(false);
  });

  it('clones again, and says so, when the workspace is broken; `fresh` clones again without being asked', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    await checkout.checkout({ repo: 'web', sha: sha.new!, workspaceDir: ws });
    await rm(join(ws, '.git', 'objects'), { recursive: true });
    await mkdir(join(ws, '.git', 'objects'));
    const lines: string[] = [];
    const result = await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws, log: (l) => lines.push(l) });
    expect(result).toMatchObject({ reused: false, fetched: false });
    expect(lines).toEqual([expect.stringMatching(/^kiln: the workspace is broken \(.+\); removing it and cloning again$/)]);
    expect(await snapshotTree(ws)).toEqual(await snapshotTree(await freshClone(sha.old!)));

    await rm(join(ws, '.git'), { recursive: true });
    lines.length = 0;
    expect(await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws, log: (l) => lines.push(l) })).toMatchObject({ reused: false });
    expect(lines).toEqual(['kiln: the workspace is broken (no .git); removing it and cloning again']);

    await writeFile(join(ws, 'left.txt'), 'x');
    lines.length = 0;
    const again = await checkout.checkout({ repo: 'web', sha: sha.new!, workspaceDir: ws, mode: { fresh: true, depth: null, filter: null }, log: (l) => lines.push(l) });
    expect(again).toMatchObject({ reused: false, fetched: false });
    expect(lines).toEqual([]);
    expect(existsSync(join(ws, 'left.txt'))).toBe(false);
  });

  it('falls back to git clean when the index is one it does not read (a split index), and clones again after a job made the history shallow', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    await checkout.checkout({ repo: 'web', sha: sha.new!, workspaceDir: ws });
    await git(ws, 'update-index', '--split-index');
    await writeFile(join(ws, 'untracked.txt'), 'u');
    const lines: string[] = [];
    expect(await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws, log: (l) => lines.push(l) })).toMatchObject({ reused: true });
    expect(lines).toEqual(['kiln: cannot read the git index (index extension link); cleaning with git clean']);
    expect(await snapshotTree(ws)).toEqual(await snapshotTree(await freshClone(sha.old!)));

    await writeFile(join(ws, '.git', 'shallow'), `${sha.old}\n`);
    lines.length = 0;
    expect(await checkout.checkout({ repo: 'web', sha: sha.new!, workspaceDir: ws, log: (l) => lines.push(l) })).toMatchObject({ reused: false });
    expect(lines).toEqual(['kiln: the workspace is broken (its history was made shallow); removing it and cloning again']);
    expect(await git(ws, 'rev-list', '--count', 'HEAD')).toBe('2');
  });

  it('serializes fetches of two agents sharing one cache: a commit is fetched once', async () => {
    sha.later = await repo.commit({ 'later.txt': 'l' }, 'later');
    await mirrors.fetchMirror({ path: repo.path }, mirror);
    const agents = [createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN }), createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN })];
    const results = await Promise.all([0, 1, 0, 1].map(async (i) => agents[i]!.checkout({ repo: 'web', sha: sha.later!, workspaceDir: await workspace() })));
    expect(results.filter((r) => r.fetched)).toHaveLength(1);
    for (const r of results) expect(await git(r.workspaceDir, 'rev-parse', 'HEAD')).toBe(sha.later);
    expect(await readdir(cacheDir)).toEqual(['web.git']); // the lock folder is gone
  });

  it('fetches a commit no branch has any more, while the server still keeps it', async () => {
    const orphan = await repo.git('commit-tree', '-p', sha.new!, '-m', 'force-pushed away', `${sha.new}^{tree}`);
    await repo.git('branch', 'tmp', orphan);
    await mirrors.fetchMirror({ path: repo.path }, mirror);
    await repo.git('branch', '-D', 'tmp');
    await mirrors.fetchMirror({ path: repo.path }, mirror);
    const checkout = createCheckout({ cacheDir: join(await makeTempDir(), 'c'), serverUrl: server.url, token: TOKEN });
    const result = await checkout.checkout({ repo: 'web', sha: orphan, workspaceDir: await workspace() });
    expect(await git(result.workspaceDir, 'log', '-1', '--format=%s')).toBe('force-pushed away');
  });

  it('says clearly when the commit is not on the server: a new workspace is removed, a reused one kept', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const missing = 'abc123'.padEnd(40, '0');
    const ws = await workspace();
    await expect(checkout.checkout({ repo: 'web', sha: missing, workspaceDir: ws })).rejects.toThrow(`commit ${missing} not found on the server (repo web)`);
    await expect(readdir(ws)).rejects.toThrow();
    await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws });
    await expect(checkout.checkout({ repo: 'web', sha: missing, workspaceDir: ws })).rejects.toThrow(`commit ${missing} not found on the server (repo web)`);
    expect(await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws })).toMatchObject({ reused: true });
  });

  it('says 401 for a wrong token without ever printing the token', async () => {
    const wrong = 'wrong-token-55';
    const checkout = createCheckout({ cacheDir: join(await makeTempDir(), 'c'), serverUrl: server.url, token: wrong });
    const error = await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: await workspace() }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`401 from server ${server.url}: the agent token was refused`);
    expect((error as Error).message).not.toContain(wrong);
    expect(String((error as Error).cause ?? '')).not.toContain(wrong);
  });

  it('says 404 for a repo the server does not have', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    await expect(checkout.checkout({ repo: 'api', sha: sha.old!, workspaceDir: await workspace() }))
      .rejects.toThrow(`404 from server ${server.url}: it has no repo api`);
  });

  it('refuses bad input', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    await expect(checkout.checkout({ repo: '../web', sha: sha.old!, workspaceDir: ws })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(checkout.checkout({ repo: 'web', sha: '--upload-pack=x', workspaceDir: ws })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(checkout.checkout({ repo: 'web', sha: sha.old!.slice(0, 12), workspaceDir: ws })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: 'relative/ws' })).rejects.toMatchObject({ code: 'bad_input' });
    expect(() => createCheckout({ cacheDir, serverUrl: 'ext::sh -c id', token: TOKEN })).toThrow(/http\(s\)/);
  });
});
