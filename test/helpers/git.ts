// Test helpers for real git repositories in temp folders, with the host's git config shut out.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const IDENTITY = ['-c', 'user.name=Kiln Test', '-c', 'user.email=test@kiln.invalid', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false'];
const tempDirs: string[] = [];

/**
 * Points HOME at a temp folder and drops system config and inherited GIT_* variables, so
 * neither the host's git config nor an outer git hook can change what the tests see.
 * Call once at the top of a test file (vitest runs each file in its own process).
 */
export async function isolateGit(): Promise<void> {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('GIT_') || key === 'XDG_CONFIG_HOME') delete process.env[key];
  }
  process.env.HOME = await makeTempDir('kiln-home-');
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  process.env.GIT_TERMINAL_PROMPT = '0';
}

/** A new empty temp folder, removed by removeTempDirs(). */
export async function makeTempDir(prefix = 'kiln-git-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Runs git with a fixed identity and `main` as the first branch; resolves with trimmed stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', [...IDENTITY, ...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

export interface TestRepo {
  path: string;
  git(...args: string[]): Promise<string>;
  /** Writes (string) or deletes (null) files, commits all changes, resolves with the new sha. */
  commit(files: Record<string, string | null>, message?: string): Promise<string>;
}

/** A normal (non-bare) repository on branch `main`, with no commits. */
export async function createRepo(): Promise<TestRepo> {
  const path = await makeTempDir('kiln-repo-');
  await git(path, 'init', '--quiet');
  const run = (...args: string[]) => git(path, ...args);
  let n = 0;
  return {
    path,
    git: run,
    async commit(files, message = `commit ${++n}`) {
      for (const [file, content] of Object.entries(files)) {
        const full = join(path, file);
        if (content === null) await rm(full, { force: true });
        else {
          await mkdir(dirname(full), { recursive: true });
          await writeFile(full, content);
        }
      }
      await run('add', '--all');
      await run('commit', '--quiet', '--allow-empty', '-m', message);
      return run('rev-parse', 'HEAD');
    },
  };
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; repos at `<url>/git/<name>.git`. */
  url: string;
  /** Every request answered so far: method, path (with query) and status. */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 (port 0) serving `mirrors` (name → bare dir) to holders of `token`. */
export async function serveGitMirrors(mirrors: Record<string, string>, token: string): Promise<GitHttpServer> {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const { createGitHttpBackend, requestToken } = await import('../../server/git/http-backend.js');
  const requests: GitHttpServer['requests'] = [];
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    const u = new URL(c.req.url);
    requests.push({ method: c.req.method, path: u.pathname + u.search, status: c.res.status });
  });
  app.route('/git', createGitHttpBackend({
    mirrorDir: (name) => mirrors[name] ?? null,
    authorize: (req) => requestToken(req) === token,
  }));
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        requests,
        close: () => new Promise<void>((done) => {
          if ('closeAllConnections' in server) server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}
