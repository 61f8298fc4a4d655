import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckout } from '../../../agent/git/checkout.js';
import { createMirrors } from '../../../server/git/mirror.js';
import {
  createRepo, git, isolateGit, makeTempDir, removeTempDirs, serveGitMirrors, type GitHttpServer, type TestRepo,
} from '../../helpers/git.js';

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
  sha.old = await repo.commit({ 'pipeline.yml': 'name: old\n', 'gone.txt': 'bye' }, 'the old one');
  sha.new = await repo.commit({ 'pipeline.yml': 'name: new\n', 'gone.txt': null, 'src/x.ts': 'x' }, 'the new one');
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

describe('agent checkout', () => {
  it('checks out an exact older commit into a fresh workspace through the server', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: `${server.url}/`, token: TOKEN });
    const ws = await workspace();
    expect(await checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws })).toEqual({ sha: sha.old, workspaceDir: ws, fetched: true });
    expect(await readFile(join(ws, 'pipeline.yml'), 'utf8')).toBe('name: old\n');
    expect(await readFile(join(ws, 'gone.txt'), 'utf8')).toBe('bye');
    expect((await readdir(ws)).sort()).toEqual(['.git', 'gone.txt', 'pipeline.yml']);
    expect(await git(ws, 'log', '-1', '--format=%H %s')).toBe(`${sha.old} the old one`);
    expect(await git(ws, 'status', '--porcelain')).toBe('');
    expect(await git(ws, 'remote', 'get-url', 'origin')).toBe(`${server.url}/git/web.git`);
    const config = await readFile(join(cacheDir, 'web.git', 'config'), 'utf8');
    expect(config).not.toContain(TOKEN);
  });

  it('reuses the cache for a commit it already has: no request to the server', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const before = server.requests.length;
    const started = Date.now();
    const result = await checkout.checkout({ repo: 'web', sha: sha.new!, workspaceDir: await workspace() });
    expect(result.fetched).toBe(false);
    expect(server.requests.length).toBe(before);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await readFile(join(result.workspaceDir, 'src/x.ts'), 'utf8')).toBe('x');
  });

  it('fetches a commit pushed later, and serializes concurrent checkouts of one repo', async () => {
    sha.later = await repo.commit({ 'later.txt': 'l' }, 'later');
    await mirrors.fetchMirror({ path: repo.path }, mirror);
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const results = await Promise.all([sha.later, sha.later, sha.old, sha.later].map(async (s) =>
      checkout.checkout({ repo: 'web', sha: s!, workspaceDir: await workspace() })));
    expect(results.filter((r) => r.fetched)).toHaveLength(1);
    for (const r of results) expect(await git(r.workspaceDir, 'rev-parse', 'HEAD')).toBe(r.sha);
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

  it('says clearly when the commit is not on the server, and removes the workspace', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const missing = 'abc123'.padEnd(40, '0');
    const ws = await workspace();
    await expect(checkout.checkout({ repo: 'web', sha: missing, workspaceDir: ws }))
      .rejects.toThrow(`commit ${missing} not found on the server (repo web)`);
    await expect(readdir(ws)).rejects.toThrow();
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

  it('refuses bad input and a workspace that is not empty', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    await expect(checkout.checkout({ repo: '../web', sha: sha.old!, workspaceDir: ws })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(checkout.checkout({ repo: 'web', sha: '--upload-pack=x', workspaceDir: ws })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(checkout.checkout({ repo: 'web', sha: sha.old!.slice(0, 12), workspaceDir: ws })).rejects.toMatchObject({ code: 'bad_input' });
    await mkdir(ws, { recursive: true });
    await writeFile(join(ws, 'keep.txt'), 'mine');
    await expect(checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: ws })).rejects.toMatchObject({ code: 'conflict' });
    expect(await readFile(join(ws, 'keep.txt'), 'utf8')).toBe('mine');
    await expect(checkout.checkout({ repo: 'web', sha: sha.old!, workspaceDir: join(ws, 'keep.txt') })).rejects.toMatchObject({ code: 'conflict' });
    expect(await readFile(join(ws, 'keep.txt'), 'utf8')).toBe('mine');
    expect(() => createCheckout({ cacheDir, serverUrl: 'ext::sh -c id', token: TOKEN })).toThrow(/http\(s\)/);
  });
});
