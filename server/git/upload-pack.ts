// Runs `git upload-pack --stateless-rpc` for one smart-HTTP request and streams its answer.
import { spawn } from 'node:child_process';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { GIT_BASE_ENV, GitError, lastLine, runGit } from './run-git.js';

// Agents fetch an exact sha. "Any" rather than "reachable": a re-run of a commit whose branch
// was force-pushed away still works while the mirror keeps the object; whoever may read the
// repo may read all of it, so this reveals nothing the token does not already grant.
// allowFilter: partial checkouts (`checkout: { filter: blob:none }`) fetch commits and trees
// first and each blob when it is checked out. Shallow fetches (`--depth`) need no setting.
const SERVE_CONFIG = ['-c', 'uploadpack.allowAnySHA1InWant=true', '-c', 'uploadpack.allowFilter=true'];

/** GIT_PROTOCOL for git from the client's `Git-Protocol` header (`version=2`), or undefined when absent or odd. */
export function gitProtocolEnv(header: string | undefined): Record<string, string> {
  return header && /^[A-Za-z0-9=:,._-]{1,100}$/.test(header) ? { GIT_PROTOCOL: header } : {};
}

/**
 * The body of `GET info/refs?service=git-upload-pack`: the `# service=` banner (protocol v0/v1
 * only; v2 clients get none, as from git http-backend) followed by upload-pack's advertisement.
 */
export async function advertiseRefs(mirrorDir: string, protocol: string | undefined): Promise<Buffer> {
  const env = gitProtocolEnv(protocol);
  const out = await runGit([...SERVE_CONFIG, 'upload-pack', '--stateless-rpc', '--http-backend-info-refs', '--strict', mirrorDir], { env });
  if (env.GIT_PROTOCOL?.includes('version=2')) return out.stdout;
  const banner = '# service=git-upload-pack\n';
  const pkt = (banner.length + 4).toString(16).padStart(4, '0') + banner;
  return Buffer.concat([Buffer.from(`${pkt}0000`), out.stdout]);
}

export interface UploadPackRequest {
  mirrorDir: string;
  body: globalThis.ReadableStream<Uint8Array> | null;
  gzip: boolean;
  protocol: string | undefined;
  /** Cap on the (decompressed) request body; more aborts the request. */
  maxRequestBytes: number;
  /** Aborts when the client goes away (the Request's signal); git is then killed. */
  signal?: AbortSignal;
  /** Called once if the request fails after the answer has started (the client sees a cut stream). */
  onError: (error: Error) => void;
}

/**
 * Pipes the request body (gunzipped when `gzip`) into upload-pack and returns its stdout as a
 * web stream. Cancelling the stream (client gone) kills git.
 */
export function uploadPack(req: UploadPackRequest): globalThis.ReadableStream<Uint8Array> {
  // Its own process group, so that stopping it also stops the pack-objects it runs, which can
  // compress for a long while before writing anything.
  const child = spawn('git', [...SERVE_CONFIG, 'upload-pack', '--stateless-rpc', '--strict', req.mirrorDir], {
    env: { ...process.env, ...GIT_BASE_ENV, ...gitProtocolEnv(req.protocol) },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let exited = false;
  const stop = (): void => {
    if (exited || child.pid === undefined) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
  };
  let stderr = '';
  let failed = false;
  const fail = (error: Error): void => {
    if (failed) return;
    failed = true;
    stop();
    req.onError(error);
  };
  const onAbort = (): void => { failed = true; stop(); }; // the client left: nothing to report
  req.signal?.addEventListener('abort', onAbort, { once: true });
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-4096); });
  child.on('error', (e) => fail(new GitError(`cannot run git: ${e.message}`, null, '')));
  child.on('exit', () => { exited = true; });
  child.on('close', (code, signal) => {
    req.signal?.removeEventListener('abort', onAbort);
    if (code !== 0 && !failed) fail(new GitError(`git upload-pack failed: ${lastLine(stderr) || signal || `exit ${code}`}`, code, stderr));
  });

  let seen = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > req.maxRequestBytes ? new Error(`request body over ${req.maxRequestBytes} bytes`) : null, chunk);
    },
  });
  const source = req.body ? Readable.fromWeb(req.body as NodeReadableStream<Uint8Array>) : Readable.from([]);
  const stages = req.gzip ? [source, createGunzip(), limit, child.stdin] : [source, limit, child.stdin];
  pipeline(stages).catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));

  // After cancel() (the client left) the controller must not be touched again: data already
  // on its way from git would make enqueue() throw outside any handler.
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      child.stdout.on('data', (chunk: Buffer) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 1) <= 0) child.stdout.pause();
      });
      child.stdout.on('end', () => { if (open) { open = false; controller.close(); } });
      child.stdout.on('error', (e) => { if (open) { open = false; controller.error(e); } });
    },
    pull() {
      child.stdout.resume();
    },
    cancel() {
      open = false;
      onAbort();
    },
  });
}
