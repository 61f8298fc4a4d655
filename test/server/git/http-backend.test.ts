import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMirrors } from '../../../server/git/mirror.js';
import {
  createRepo, git, isolateGit, makeTempDir, removeTempDirs, serveGitMirrors, type GitHttpServer, type TestRepo,
} from '../../helpers/git.js';

const exec = promisify(execFile);
const TOKEN = 'tok-s3cret-123';
let server: GitHttpServer;
let repo: TestRepo;
let head: string;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'name: web\n' });
  head = await repo.commit({ 'src/app.js': 'console.log(1)\n' });
  await repo.git('tag', 'v1');
  const mirror = join(await makeTempDir(), 'web.git');
  await createMirrors().fetchMirror({ path: repo.path }, mirror);
  server = await serveGitMirrors({ web: mirror }, TOKEN);
});
afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

/** Runs git in `cwd`; resolves with its exit code and stderr instead of throwing. */
async function tryGit(cwd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await exec('git', args, { cwd });
    return { code: 0, stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

const bearer = (token: string) => ['-c', `http.extraHeader=Authorization: Bearer ${token}`];

describe('smart HTTP', () => {
  it('clones through the server with the token as a Bearer header (protocol v2)', async () => {
    const dir = await makeTempDir();
    await git(dir, ...bearer(TOKEN), 'clone', '--quiet', `${server.url}/git/web.git`, 'out');
    expect(await git(join(dir, 'out'), 'rev-parse', 'HEAD')).toBe(head);
    expect(await readFile(join(dir, 'out', 'src/app.js'), 'utf8')).toBe('console.log(1)\n');
    expect(await git(join(dir, 'out'), 'tag')).toBe('v1');
  });

  it('clones with the token as a Basic password and with protocol v0', async () => {
    const dir = await makeTempDir();
    const url = `${server.url.replace('://', `://kiln:${TOKEN}@`)}/git/web`;
    await git(dir, '-c', 'protocol.version=0', 'clone', '--quiet', url, 'out');
    expect(await git(join(dir, 'out'), 'rev-parse', 'HEAD')).toBe(head);
  });

  it('answers a wrong or missing token with 401 and WWW-Authenticate: Basic', async () => {
    const dir = await makeTempDir();
    const result = await tryGit(dir, [...bearer('wrong'), 'clone', '--quiet', `${server.url}/git/web.git`, 'out']);
    expect(result.code).not.toBe(0);
    const res = await fetch(`${server.url}/git/web.git/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(server.requests.some((r) => r.status === 401 && r.path.startsWith('/git/web.git/info/refs'))).toBe(true);
  });

  it('refuses push with 403, whatever the token', async () => {
    await repo.git('remote', 'add', 'kiln', `${server.url}/git/web.git`);
    const result = await tryGit(repo.path, [...bearer(TOKEN), 'push', 'kiln', 'HEAD:refs/heads/evil']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/403/);
    const post = await fetch(`${server.url}/git/web.git/git-receive-pack`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-git-receive-pack-request' }, body: '0000',
    });
    expect(post.status).toBe(403);
  });

  it('answers 404 for unknown repos and bad names, and refuses dumb HTTP', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const get = (path: string) => fetch(`${server.url}/git/${path}`, { headers: auth }).then((r) => r.status);
    expect(await get('nope.git/info/refs?service=git-upload-pack')).toBe(404);
    expect(await get('..web.git/info/refs?service=git-upload-pack')).toBe(404);
    expect(await get('we%20b.git/info/refs?service=git-upload-pack')).toBe(404);
    expect(await get('web.git/info/refs')).toBe(403);
    expect(await get('web.git/HEAD')).toBe(404);
  });

  it("serves a fetch whose long negotiation git sends gzip-compressed", async () => {
    const dir = await makeTempDir();
    await git(dir, ...bearer(TOKEN), 'clone', '--quiet', `${server.url}/git/web.git`, 'out');
    const out = join(dir, 'out');
    // 40 local commits, newer than anything on the server and the only path back to it: the
    // client sends several rounds of "have" lines, and git gzips a request body over 1 KiB.
    for (let i = 0; i < 40; i++) {
      await exec('git', ['-c', 'user.name=T', '-c', 'user.email=t@kiln.invalid', 'commit', '--quiet', '--allow-empty', '-m', `local ${i}`],
        { cwd: out, env: { ...process.env, GIT_COMMITTER_DATE: `@${4_000_000_000 + i} +0000` } });
    }
    await git(out, 'remote', 'remove', 'origin');
    await git(out, 'tag', '-d', 'v1');
    const mirror = join(await makeTempDir(), 'web.git');
    const next = await repo.commit({ 'src/app.js': 'console.log(2)\n' });
    await createMirrors().fetchMirror({ path: repo.path }, mirror);
    const other = await serveGitMirrors({ web: mirror }, TOKEN);
    try {
      const trace = join(dir, 'trace');
      await exec('git', [...bearer(TOKEN), 'fetch', '--quiet', `${other.url}/git/web.git`, 'main'], {
        cwd: out, env: { ...process.env, GIT_TRACE_CURL: trace, GIT_TRACE_CURL_NO_DATA: '1' },
      });
      expect(await readFile(trace, 'utf8')).toMatch(/Send header: Content-Encoding: gzip/);
      expect(await git(out, 'rev-parse', 'FETCH_HEAD')).toBe(next);
    } finally {
      await other.close();
    }
  });

  it('accepts a gzip-compressed request body', async () => {
    const pkt = (s: string) => (s.length + 4).toString(16).padStart(4, '0') + s;
    const body = gzipSync(`${pkt('command=ls-refs\n')}0001${pkt('peel\n')}0000`);
    const res = await fetch(`${server.url}/git/web.git/git-upload-pack`, {
      method: 'POST',
      body,
      headers: {
        authorization: `Bearer ${TOKEN}`, 'git-protocol': 'version=2',
        'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    expect(await res.text()).toContain(`${head} refs/heads/main`);
  });
});
