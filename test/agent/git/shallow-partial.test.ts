// Shallow (`checkout: {depth}`) and partial (`checkout: {filter: blob:none}`) checkouts against the server's real smart-HTTP handler.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckout } from '../../../agent/git/checkout.js';
import { createMirrors } from '../../../server/git/mirror.js';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs, serveGitMirrors, type GitHttpServer, type TestRepo } from '../../helpers/git.js';

const TOKEN = 'agent-tok-shallow';
let server: GitHttpServer;
let repo: TestRepo;
let mirror: string;
let cacheDir: string;
const shas: string[] = [];

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  for (let i = 1; i <= 5; i++) shas.push(await repo.commit({ [`f${i}.txt`]: `content ${i}\n`, 'big.txt': `version ${i}\n`.repeat(1000) }, `commit ${i}`));
  mirror = join(await makeTempDir(), 'web.git');
  await createMirrors().fetchMirror({ path: repo.path }, mirror);
  server = await serveGitMirrors({ web: mirror }, TOKEN);
  cacheDir = join(await makeTempDir(), 'cache');
});
afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

const workspace = async () => join(await makeTempDir('kiln-ws-'), 'ws');

describe('shallow and partial checkouts', () => {
  it('depth 2: two commits of history, `git log -1` works, and the shared cache is never touched', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    const mode = { fresh: false, depth: 2, filter: null };
    expect(await checkout.checkout({ repo: 'web', sha: shas[3]!, workspaceDir: ws, mode })).toMatchObject({ fetched: true, reused: false });
    expect(await git(ws, 'rev-list', '--count', 'HEAD')).toBe('2');
    expect(await git(ws, 'log', '-1', '--format=%H %s')).toBe(`${shas[3]} commit 4`);
    expect(existsSync(join(ws, '.git', 'shallow'))).toBe(true);
    expect(await readFile(join(ws, 'f4.txt'), 'utf8')).toBe('content 4\n');
    expect(existsSync(cacheDir)).toBe(false);

    await writeFile(join(ws, 'junk'), 'x');
    expect(await checkout.checkout({ repo: 'web', sha: shas[4]!, workspaceDir: ws, mode })).toMatchObject({ fetched: true, reused: true });
    expect(await git(ws, 'log', '-1', '--format=%s')).toBe('commit 5');
    expect(existsSync(join(ws, 'junk'))).toBe(false);
    expect(await checkout.checkout({ repo: 'web', sha: shas[4]!, workspaceDir: ws, mode })).toMatchObject({ fetched: false, reused: true });

    // A full checkout afterwards has the whole history, from a cache that is not shallow.
    const full = await workspace();
    await checkout.checkout({ repo: 'web', sha: shas[4]!, workspaceDir: full });
    expect(await git(full, 'rev-list', '--count', 'HEAD')).toBe('5');
    expect(existsSync(join(cacheDir, 'web.git', 'shallow'))).toBe(false);
  });

  it('filter blob:none: commits and trees of history, blobs only of what is checked out', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    const mode = { fresh: false, depth: null, filter: 'blob:none' as const };
    expect(await checkout.checkout({ repo: 'web', sha: shas[4]!, workspaceDir: ws, mode })).toMatchObject({ fetched: true, reused: false });
    expect(await git(ws, 'rev-list', '--count', 'HEAD')).toBe('5');
    expect(await readFile(join(ws, 'big.txt'), 'utf8')).toBe('version 5\n'.repeat(1000));
    const oldBlob = await git(ws, 'rev-parse', `${shas[0]}:big.txt`);
    const missing = await git(ws, 'rev-list', '--objects', '--missing=print', 'HEAD');
    expect(missing.split('\n')).toContain(`?${oldBlob}`);
    expect(await git(ws, 'config', 'remote.origin.promisor')).toBe('true');
    expect(await git(ws, 'status', '--porcelain')).toBe('');

    // Reused for an older commit: its blobs come on demand from the server, with the token.
    expect(await checkout.checkout({ repo: 'web', sha: shas[0]!, workspaceDir: ws, mode })).toMatchObject({ reused: true });
    expect(await readFile(join(ws, 'big.txt'), 'utf8')).toBe('version 1\n'.repeat(1000));
    expect(existsSync(join(ws, 'f5.txt'))).toBe(false);
  });

  it('depth 1 with filter blob:none together', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const ws = await workspace();
    await checkout.checkout({ repo: 'web', sha: shas[2]!, workspaceDir: ws, mode: { fresh: true, depth: 1, filter: 'blob:none' } });
    expect(await git(ws, 'rev-list', '--count', 'HEAD')).toBe('1');
    expect(await readFile(join(ws, 'f3.txt'), 'utf8')).toBe('content 3\n');
  });

  it('says clearly when a shallow fetch asks for a commit the server does not have', async () => {
    const checkout = createCheckout({ cacheDir, serverUrl: server.url, token: TOKEN });
    const missing = 'abcd'.padEnd(40, '0');
    await expect(checkout.checkout({ repo: 'web', sha: missing, workspaceDir: await workspace(), mode: { fresh: false, depth: 1, filter: null } }))
      .rejects.toThrow(`commit ${missing} not found on the server (repo web)`);
  });
});
