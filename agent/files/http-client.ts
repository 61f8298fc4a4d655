// The agent's HTTP client for artifacts and caches: PUT a file, GET JSON, GET to a file; retried.
import { createReadStream, createWriteStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { digesting, type Digest } from './digest.js';
import { RetryableError, withRetries, type RetryOptions } from './retry.js';

export interface FilesClientOptions {
  /** The server's base URL without a trailing slash (`http://ci:8080`). */
  serverUrl: string;
  /** The job's transfer token (JobFiles.token). */
  token: string;
  /** The job's cancel: stops a transfer and its retries. */
  signal: AbortSignal;
  retry?: RetryOptions;
  /** A connection silent this long fails (and is retried); default 60 000. */
  idleMs?: number;
  /** Hears each failure that is retried (a log line). */
  onRetry?(what: string, reason: string, waitMs: number): void;
}

/** A final answer: the server's 4xx (its `{error}` as the message), or a transfer that gave up. */
export class TransferError extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
  }
}

/**
 * Every method retries connection errors and 5xx answers (RetryOptions) and throws a
 * TransferError on a 4xx, carrying the server's one-line `{error}`. `path` is the URL path
 * (`/api/jobs/1/cache?key=…`), already encoded.
 */
export interface FilesClient {
  /** PUTs the file with Content-Length and `X-Kiln-Sha256`; resolves with the answer's JSON. */
  put(path: string, file: string, digest: Digest): Promise<unknown>;
  getJson(path: string): Promise<unknown>;
  /** GETs into `file` (replaced on each try), hashing it; resolves with the digest of what came. */
  download(path: string, file: string): Promise<Digest>;
}

const JSON_LIMIT = 1024 * 1024;

export function createFilesClient(o: FilesClientOptions): FilesClient {
  const idleMs = o.idleMs ?? 60_000;
  const send = <T>(method: string, path: string, headers: OutgoingHttpHeaders, body: string | null, onOk: (res: IncomingMessage) => Promise<T>) =>
    withRetries(() => once(method, path, headers, body, onOk), o.signal, o.retry, (err, waitMs) => o.onRetry?.(`${method} ${path.split('?')[0]}`, err.message, waitMs));

  const once = <T>(method: string, path: string, extra: OutgoingHttpHeaders, file: string | null, onOk: (res: IncomingMessage) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const url = new URL(o.serverUrl + path);
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(url, { method, headers: { authorization: `Bearer ${o.token}`, ...extra }, signal: o.signal, timeout: idleMs });
      let answered = false;
      req.on('timeout', () => req.destroy(new Error(`no answer for ${Math.round(idleMs / 1000)} s`)));
      req.on('error', (err) => {
        if (answered) return;
        reject(o.signal.aborted ? o.signal.reason : new RetryableError(connectionProblem(err)));
      });
      req.on('response', (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          onOk(res).then(resolve, (err: unknown) => reject(o.signal.aborted ? o.signal.reason : err instanceof TransferError ? err : new RetryableError(connectionProblem(err))));
          return;
        }
        readJson(res).then((body) => {
          const said = typeof (body as { error?: unknown } | null)?.error === 'string' ? (body as { error: string }).error : null;
          reject(status >= 500 ? new RetryableError(`the server answered ${status}${said ? `: ${said}` : ''}`) : new TransferError(said ?? `HTTP ${status}`, status));
        }, () => reject(status >= 500 ? new RetryableError(`the server answered ${status}`) : new TransferError(`HTTP ${status}`, status)));
      });
      if (file === null) {
        req.end();
        return;
      }
      const source = createReadStream(file);
      source.on('error', (err) => {
        answered = true;
        reject(new TransferError(`cannot read ${file}: ${err.message}`, null));
        req.destroy();
      });
      // pipe() leaves the file open when the request dies (a dropped connection): close it then.
      req.once('close', () => source.destroy());
      source.pipe(req);
    });

  return {
    put: (path, file, digest) => send('PUT', path, {
      'content-type': 'application/gzip', 'content-length': String(digest.size), 'x-kiln-sha256': digest.sha256,
    }, file, readJson),
    getJson: (path) => send('GET', path, { accept: 'application/json' }, null, readJson),
    download: (path, file) => send('GET', path, {}, null, async (res) => {
      const digest = digesting();
      await pipeline(res, digest.pass, createWriteStream(file));
      const result = digest.result();
      const expected = Number(res.headers['content-length']);
      if (Number.isFinite(expected) && expected !== result.size) throw new Error(`the download broke off at ${result.size} of ${expected} bytes`);
      return result;
    }),
  };
}

async function readJson(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > JSON_LIMIT) throw new Error('the answer is over 1 MiB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? null : JSON.parse(text);
}

function connectionProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code && !e.message.includes(e.code) ? `${e.message} (${e.code})` : (e.message ?? String(err));
}
