// The HTTP client behind `kiln trigger`, `kiln logs` and `kiln status`: KILN_SERVER and
// KILN_TOKEN (or --server/--token), JSON in and out, server errors as one line.

export interface ClientOptions {
  server: string;
  token: string | null;
}

export class ClientError extends Error {
  override name = 'ClientError';
}

export function clientOptions(values: { server?: string | undefined; token?: string | undefined }): ClientOptions {
  const server = (values.server ?? process.env.KILN_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(server)) throw new ClientError(`the server must be an http(s) URL, got "${server}"`);
  return { server, token: values.token ?? process.env.KILN_TOKEN ?? null };
}

export async function request(options: ClientOptions, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${options.server}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new ClientError(`cannot reach ${options.server}${cause ? ` (${cause})` : ''}; is the server running? (set KILN_SERVER)`);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    const hint = response.status === 401 ? ' (set KILN_TOKEN to the admin token)' : '';
    throw new ClientError(`${response.status}: ${message.split('\n')[0]}${hint}`);
  }
  return response;
}

export async function getJson<T>(options: ClientOptions, path: string): Promise<T> {
  return (await (await request(options, 'GET', path)).json()) as T;
}

export interface RunJson {
  id: number; repo: string; number: number; status: string; event: string; ref: string | null; branch: string | null;
  tag: string | null; sha: string; message: string | null; error: string | null; created_at: string;
  started_at: string | null; finished_at: string | null; attempt: number; attempts?: AttemptJson[]; jobs?: JobJson[];
}
export interface AttemptJson { attempt: number; status: string; jobs: string[] }
export interface JobJson {
  id: number; run_id: number; name: string; status: string; needs: string[]; agent: string | null; attempt: number; run_attempt: number;
  exit_code: number | null; reason: string | null; started_at: string | null; finished_at: string | null;
  steps?: Array<{ name: string; status: string; exit_code: number | null }>;
}

export const FINAL = new Set(['success', 'failed', 'cancelled', 'skipped', 'error']);

export function duration(from: string | null, to: string | null): string {
  if (!from) return '';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
