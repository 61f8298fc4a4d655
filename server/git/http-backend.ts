// Serves repo mirrors read-only over git's smart HTTP (clone and fetch; push is refused).
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { presentedToken } from '../access/authenticate.js';
import { advertiseRefs, uploadPack } from './upload-pack.js';

export interface GitHttpOptions {
  /** The bare mirror folder for a repo name, or null when kiln has no such repo. */
  mirrorDir(repo: string): string | null | Promise<string | null>;
  /** True when the request may read repositories (see `requestToken`). Failing answers 401. */
  authorize(request: Request): boolean | Promise<boolean>;
  /** Largest negotiation body accepted, after gunzip (default 32 MiB). */
  maxRequestBytes?: number;
  logger?: Logger;
}

const REPO_NAME = /^[A-Za-z0-9._-]+$/;
const NO_CACHE = {
  'Cache-Control': 'no-cache, max-age=0, must-revalidate',
  Expires: 'Fri, 01 Jan 1980 00:00:00 GMT',
  Pragma: 'no-cache',
};

/**
 * The token a git client sent: the `Authorization: Bearer` token (agents set it with
 * `http.extraHeader`), or the HTTP Basic password (the user name when the password is empty).
 */
export function requestToken(request: Request): string | null {
  return presentedToken(request.headers.get('authorization'));
}

/** `web.git` or `web` → `web`; null for names kiln never serves. */
function repoName(param: string): string | null {
  const name = param.endsWith('.git') ? param.slice(0, -4) : param;
  return REPO_NAME.test(name) && !name.includes('..') ? name : null;
}

const fail = (c: Context, status: 401 | 403 | 404 | 415, error: string, headers: Record<string, string> = {}) =>
  c.json({ error }, status, headers);

/**
 * A Hono app to mount at `/git` (`app.route('/git', createGitHttpBackend(...))`) answering
 * `GET /:repo.git/info/refs?service=git-upload-pack` and `POST /:repo.git/git-upload-pack`.
 * Order of checks: repo name (404), service (403 for receive-pack and dumb HTTP), authorize
 * (401 with `WWW-Authenticate: Basic`), repo known (404). Gzip request bodies are accepted.
 */
export function createGitHttpBackend(options: GitHttpOptions): Hono {
  const maxRequestBytes = options.maxRequestBytes ?? 32 * 1024 * 1024;
  const app = new Hono();

  const guard = async (c: Context, service: string | undefined): Promise<Response | string> => {
    const name = repoName(c.req.param('repo') ?? '');
    if (name === null) return fail(c, 404, 'unknown repo');
    if (service === 'git-receive-pack') return fail(c, 403, 'kiln serves repositories read-only; push to the origin');
    if (service !== 'git-upload-pack') return fail(c, 403, 'only smart HTTP git-upload-pack is served');
    if (!(await options.authorize(c.req.raw))) {
      return fail(c, 401, 'a valid token is required', { 'WWW-Authenticate': 'Basic realm="kiln", charset="UTF-8"' });
    }
    const dir = await options.mirrorDir(name);
    return dir ?? fail(c, 404, `unknown repo ${name}`);
  };

  app.get('/:repo/info/refs', async (c) => {
    const dir = await guard(c, c.req.query('service'));
    if (typeof dir !== 'string') return dir;
    const body = await advertiseRefs(dir, c.req.header('git-protocol'));
    return c.body(new Uint8Array(body), 200, { ...NO_CACHE, 'Content-Type': 'application/x-git-upload-pack-advertisement' });
  });

  app.post('/:repo/:service{git-(upload|receive)-pack}', async (c) => {
    const dir = await guard(c, c.req.param('service'));
    if (typeof dir !== 'string') return dir;
    if (c.req.header('content-type') !== 'application/x-git-upload-pack-request') {
      return fail(c, 415, 'expected application/x-git-upload-pack-request');
    }
    const repo = c.req.param('repo');
    const stream = uploadPack({
      mirrorDir: dir,
      body: c.req.raw.body,
      gzip: /^(x-)?gzip$/i.test(c.req.header('content-encoding') ?? ''),
      protocol: c.req.header('git-protocol'),
      maxRequestBytes,
      signal: c.req.raw.signal,
      onError: (err) => options.logger?.warn({ repo, err: err.message }, 'git upload-pack failed'),
    });
    return c.body(stream, 200, { ...NO_CACHE, 'Content-Type': 'application/x-git-upload-pack-result' });
  });

  return app;
}
