// A real git server on loopback (tests and benchmarks), standing in for a forge's git endpoint: git's own
// `git http-backend` (smart HTTP, fetch and push) run as CGI behind a Node HTTP server on
// 127.0.0.1 port 0, with the auth a forge asks for: HTTP Basic (any user, the token as the
// password, as GitHub and GitLab take it) or `Authorization: Bearer <token>`. It records
// every request's path and whether it was let in, so tests can see what a client sent.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface GitServer {
  /** `http://127.0.0.1:PORT/<name>.git` */
  url(name: string): string;
  /** Makes an empty bare repository `<name>.git` that accepts pushes. */
  createRepo(name: string): string;
  /**
   * Every request so far: method, path (no query), whether its token was accepted, and for a
   * protocol v2 POST the command it carried (`ls-refs` for ls-remote, `fetch`; null when the
   * body was compressed or had none).
   */
  readonly requests: Array<{ method: string; path: string; authorized: boolean; authorization: string | null; command: string | null }>;
  close(): Promise<void>;
}

export interface GitServerOptions {
  /** The folder holding the bare repositories. */
  root: string;
  /** The token a request must carry; null: no auth. */
  token: string | null;
}

function tokenOf(request: IncomingMessage): string | null {
  const [scheme = '', value = ''] = (request.headers.authorization ?? '').split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

/** Makes an empty bare repository `<root>/<name>.git` that accepts pushes over smart HTTP. */
export function createBareRepo(root: string, name: string): string {
  const dir = join(root, `${name}.git`);
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  execFileSync('git', ['-C', dir, 'config', 'http.receivepack', 'true']);
  return dir;
}

export async function startGitServer({ root, token }: GitServerOptions): Promise<GitServer> {
  mkdirSync(root, { recursive: true });
  const requests: GitServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const authorized = token === null || tokenOf(request) === token;
    const seen = { method: request.method ?? '', path: url.pathname, authorized, authorization: request.headers.authorization ?? null, command: null as string | null };
    requests.push(seen);
    if (request.method === 'POST' && !request.headers['content-encoding']) {
      request.once('data', (first: Buffer) => (seen.command = /command=([a-z-]+)/.exec(first.toString('latin1'))?.[1] ?? null));
    }
    if (!authorized) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
      response.end('authentication required\n');
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: request.method ?? 'GET',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        REMOTE_USER: 'tester',
        REMOTE_ADDR: '127.0.0.1',
        ...(request.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(request.headers['content-encoding']) } : {}),
        ...(request.headers['git-protocol'] ? { GIT_PROTOCOL: String(request.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    request.pipe(cgi.stdin);
    // CGI answers with headers, a blank line, then the body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void response.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      response.writeHead(status, headers);
      response.write(head.subarray(end + 4));
    });
    cgi.on('close', () => response.end());
    cgi.on('error', () => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    createRepo: (name) => createBareRepo(root, name),
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
