// A loopback server that answers the artifact and cache routes as docs' files contract says, kept
// in memory: for driving the agent's transfers end to end without the kiln server.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredBlob {
  id: number;
  jobId: number;
  name: string;   // artifact name or cache key
  sha256: string;
  data: Buffer;
  createdAt: number;
}

/** The routes' state; `handle` answers one request (mount it in another server with `handle`). */
export interface ContractRoutes {
  artifacts: StoredBlob[];
  caches: StoredBlob[];
  /** `METHOD path` of every request, in order. */
  requests: string[];
  /** The transfer token of a job, as the assignment carries it. */
  tokenOf(jobId: number): string;
  artifactMaxBytes: number;
  cacheMaxBytes: number;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface ContractServer extends ContractRoutes {
  url: string;
  close(): Promise<void>;
}

export function createContractRoutes(): ContractRoutes {
  let nextId = 1;
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const tokenOf = (jobId: number) => `${jobId}.mac-of-${jobId}`;
  const jobOf = (req: IncomingMessage) => /^Bearer (\d+)\.mac-of-\1$/.exec(req.headers.authorization ?? '')?.[1];
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const serveBlob = (res: ServerResponse, blob: StoredBlob | undefined) => blob
    ? res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': blob.data.length, etag: `"${blob.sha256}"`, 'x-kiln-sha256': blob.sha256 }).end(blob.data)
    : json(res, 404, { error: 'not found' });

  const s: ContractRoutes = {
    artifacts: [], caches: [], requests: [], tokenOf, artifactMaxBytes: 1024 ** 3, cacheMaxBytes: 10 * 1024 ** 3,
    handle: async (req, res) => void (await answer(req, res)),
  };
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<unknown> => {
    const url = new URL(req.url ?? '/', 'http://x');
    s.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const holder = jobOf(req);
    if (holder === undefined) return json(res, 401, { error: 'this needs the job\'s transfer token' });
    const forJob = /^\/api\/jobs\/(\d+)\//.exec(url.pathname)?.[1];
    if (forJob !== undefined && forJob !== holder) return json(res, 403, { error: `this token belongs to job ${holder}, not job ${forJob}` });

    const upload = async (list: StoredBlob[], name: string, max: number, what: string) => {
      if (Number(req.headers['content-length']) > max) return json(res, 413, { error: `${what} is over server.${list === s.artifacts ? 'artifact_max' : 'cache_max'} (${max} bytes)` });
      const data = await readBody(req);
      const sha256 = createHash('sha256').update(data).digest('hex');
      if (sha256 !== req.headers['x-kiln-sha256']) return json(res, 400, { error: 'the body does not match X-Kiln-Sha256' });
      const blob = { id: nextId++, jobId: Number(holder), name, sha256, data, createdAt: Date.now() + nextId };
      list.push(blob);
      return json(res, 201, { [list === s.artifacts ? 'artifact' : 'entry']: { id: blob.id, name, size: data.length, sha256 } });
    };

    const artifact = /^\/api\/jobs\/\d+\/artifacts\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PUT' && artifact) {
      const name = decodeURIComponent(artifact[1]!);
      s.artifacts = s.artifacts.filter((a) => !(a.jobId === Number(holder) && a.name === name));
      return upload(s.artifacts, name, s.artifactMaxBytes, `artifact "${name}"`);
    }
    if (req.method === 'GET' && /^\/api\/artifacts\/\d+$/.test(url.pathname)) return serveBlob(res, s.artifacts.find((a) => `/api/artifacts/${a.id}` === url.pathname));
    if (req.method === 'GET' && /^\/api\/caches\/\d+$/.test(url.pathname)) return serveBlob(res, s.caches.find((c) => `/api/caches/${c.id}` === url.pathname));
    if (/^\/api\/jobs\/\d+\/cache$/.test(url.pathname)) {
      const key = url.searchParams.get('key') ?? '';
      if (req.method === 'PUT') {
        if (s.caches.some((c) => c.name === key)) return json(res, 409, { error: `cache ${key} exists` });
        return upload(s.caches, key, s.cacheMaxBytes, `cache ${key}`);
      }
      const exact = s.caches.find((c) => c.name === key);
      const newestWith = (prefix: string) => s.caches.filter((c) => c.name.startsWith(prefix)).sort((a, b) => b.createdAt - a.createdAt)[0];
      const prefix = exact ? undefined : url.searchParams.getAll('restore_key').find((p) => newestWith(p) !== undefined);
      const hit = exact ?? (prefix !== undefined ? newestWith(prefix) : undefined);
      return json(res, 200, { entry: hit ? { id: hit.id, key: hit.name, size: hit.data.length, sha256: hit.sha256, exact: hit === exact, prefix: prefix ?? null } : null });
    }
    return json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  };
  return s;
}

export async function startContractServer(): Promise<ContractServer> {
  const routes = createContractRoutes();
  const server = createServer((req, res) => void routes.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(routes, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
}
