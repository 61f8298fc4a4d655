// Makes sure a job's image is on the Docker host, per the pull policy, or says clearly why not.
import type Docker from 'dockerode';
import { KilnError } from '../../../shared/errors.js';
import type { PullPolicy } from '../../../shared/pipeline/types.js';
import { createPullProgress, type PullEvent } from './pull-progress.js';

export const DEFAULT_PULL_TIMEOUT_MS = 10 * 60_000;

export interface EnsureImageOptions {
  docker: Docker;
  image: string;
  policy: PullPolicy;
  /** System lines for the job log: why it pulls, layer progress, the result. */
  log(text: string): void;
  /** The job's cancel: aborts the pull. */
  signal?: AbortSignal;
  /** A pull that takes longer fails; default 10 min. */
  timeoutMs?: number;
}

/**
 * Resolves once `image` is on the host: `never` only checks, `if-not-present` pulls when it is
 * absent, `always` pulls. Rejects with a KilnError (`not_found`) whose message is one line:
 * "image X is not present and pull is never", "cannot pull X: <daemon message>", "cannot pull
 * X: timed out after N s", "cannot pull X: cancelled". Never hangs past the timeout.
 */
export async function ensureImage(o: EnsureImageOptions): Promise<void> {
  const present = await isPresent(o.docker, o.image);
  if (o.policy === 'never') {
    if (!present) throw new KilnError('not_found', `image ${o.image} is not present and pull is never`);
    return;
  }
  if (present && o.policy === 'if-not-present') return;
  o.log(`pulling ${o.image} (pull: ${o.policy}${present ? '' : ', not present'})`);
  await pullImage(o);
  if (!(await isPresent(o.docker, o.image))) throw new KilnError('not_found', `cannot pull ${o.image}: the pull ended but the image is not there`);
}

async function isPresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw new KilnError('internal', `cannot inspect image ${image}: ${daemonMessage(err)}`, { cause: err });
  }
}

async function pullImage(o: EnsureImageOptions): Promise<void> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const fail = (why: string, cause?: unknown) => new KilnError('not_found', `cannot pull ${o.image}: ${why}`, { cause });
  const whyAborted = () => (timeout.aborted ? `timed out after ${Math.round(timeoutMs / 1000)} s` : 'cancelled');
  if (signal.aborted) throw fail(whyAborted());
  const progress = createPullProgress(o.image, o.log);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await o.docker.pull(o.image, { abortSignal: signal });
  } catch (err) {
    throw fail(signal.aborted ? whyAborted() : daemonMessage(err), err);
  }
  await new Promise<void>((resolve, reject) => {
    let failed: string | null = null;
    const onAbort = () => {
      (stream as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
      reject(fail(whyAborted()));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    o.docker.modem.followProgress(stream, (err: Error | null) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return reject(fail(whyAborted()));
      if (err || failed) return reject(fail(failed ?? daemonMessage(err), err));
      progress.finish();
      resolve();
    }, (event: PullEvent) => {
      if (event.error) failed ??= event.errorDetail?.message ?? event.error;
      else progress.onEvent(event);
    });
  });
}

/** The daemon's own words from a dockerode error, on one line, without the HTTP preamble. */
export function daemonMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  const raw = typeof json?.message === 'string' ? json.message : err instanceof Error ? err.message : String(err);
  return raw.replace(/^\(HTTP code \d+\)[^-]*- /, '').replace(/\s+/g, ' ').trim();
}
