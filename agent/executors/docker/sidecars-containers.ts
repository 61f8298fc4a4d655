// Container plumbing the sidecars share: images present or pulled, labelled volumes, quiet removal, log lines, polling.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { KilnError } from '../../../shared/errors.js';
import type { PullPolicy } from '../../../shared/pipeline/types.js';
import { createLineSplitter } from '../../logs/line-splitter.js';
import { createMasker } from '../../logs/mask.js';
import { ensureImage } from './images.js';

/** Whether a Docker API error means the resource is already gone (or going). */
export function isMissing(error: unknown): boolean {
  const status = (error as { statusCode?: number } | null)?.statusCode;
  return status === 404 || (status === 409 && /in progress|is not running/i.test(String((error as Error).message)));
}

/** A Docker-safe name part from a service name (`[a-zA-Z0-9_.-]`), with a random suffix against stale leftovers. */
export function resourceName(jobId: number, part: string): string {
  return `kiln-${jobId}-${part.replace(/[^a-zA-Z0-9_.-]+/g, '_')}-${randomBytes(3).toString('hex')}`;
}

/**
 * Makes `image` present as `policy` says (images.ts) and returns how it is configured. Rejects
 * with images.ts's KilnError (`not_found`), its message prefixed with `what` (e.g. `service
 * "db"`), so the job ends `error` with a reason the user can act on.
 */
export async function imageFor(docker: Docker, image: string, policy: PullPolicy, what: string, log: (text: string) => void,
  signal: AbortSignal): Promise<Docker.ImageInspectInfo> {
  try {
    await ensureImage({ docker, image, policy, log, signal });
  } catch (error) {
    if (error instanceof KilnError) throw new KilnError(error.code, `${what}: ${error.message}`, { cause: error });
    throw error;
  }
  return docker.getImage(image).inspect();
}

/**
 * Mounts for the volumes an image declares (`VOLUME /var/lib/postgresql/data`), as anonymous
 * volumes that carry `labels`: Docker would otherwise create unlabelled ones that cleanup by
 * label could never find after a crash. Paths in `taken` are mounted by the caller.
 */
export function declaredVolumeMounts(info: Docker.ImageInspectInfo, labels: Record<string, string>, taken: string[] = []): Docker.MountSettings[] {
  const declared = Object.keys((info.Config as { Volumes?: Record<string, unknown> | null }).Volumes ?? {});
  return declared.filter((target) => !taken.includes(target)).map((target) => ({
    Type: 'volume', Source: '', Target: target,
    VolumeOptions: { Labels: labels } as Docker.MountSettings['VolumeOptions'],
  }));
}

/** Stops (with `graceS` seconds of grace) and removes a container and its anonymous volumes; a missing one is fine. */
export async function removeContainer(container: Docker.Container, graceS = 1): Promise<void> {
  try {
    await container.stop({ t: graceS });
  } catch (error) {
    if (!isMissing(error) && (error as { statusCode?: number }).statusCode !== 304) throw error;
  }
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

export interface LogFollower {
  /** Resolves when the container's output has ended (it stopped, or `close` was called). */
  readonly ended: Promise<void>;
  close(): void;
}

/** Sends a container's stdout and stderr, line by line, to `onLine`, until it stops or `close()`. */
export async function followLogs(docker: Docker, container: Docker.Container, onLine: (text: string) => void): Promise<LogFollower> {
  const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream & { destroy(): void };
  const splitter = () => createLineSplitter({ maxLineChars: 64 * 1024, masker: createMasker([]), now: Date.now, onLine: (text) => onLine(text) });
  const out = splitter();
  const err = splitter();
  docker.modem.demuxStream(stream, { write: (b: Buffer) => out.push(b) } as unknown as NodeJS.WritableStream,
    { write: (b: Buffer) => err.push(b) } as unknown as NodeJS.WritableStream);
  const ended = new Promise<void>((resolve) => {
    const done = () => { out.end(); err.end(); resolve(); };
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
  });
  return { ended, close: () => stream.destroy() };
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal: AbortSignal;
  /** The error when time is up. */
  onTimeout(): Error;
}

/** Calls `check` until it returns true; it may throw to give up at once. Rejects on timeout or abort. */
export async function pollUntil(check: () => Promise<boolean>, o: PollOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    o.signal.throwIfAborted();
    if (await check()) return;
    if (Date.now() >= deadline) throw o.onTimeout();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, o.intervalMs ?? 250);
      function done() { clearTimeout(timer); o.signal.removeEventListener('abort', done); resolve(); }
      o.signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The last `lines` lines of a stopped or running container's output (stdout and stderr interleaved), for error messages. */
export async function tailOutput(container: Docker.Container, lines = 15): Promise<string> {
  try {
    const raw = (await container.logs({ stdout: true, stderr: true, tail: lines })) as Buffer;
    const parts: Buffer[] = [];
    // Multiplexed frames: 1 byte stream, 3 zero bytes, 4 bytes big-endian length, then the payload.
    for (let at = 0; at + 8 <= raw.length;) {
      const size = raw.readUInt32BE(at + 4);
      parts.push(raw.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    return Buffer.concat(parts).toString('utf8').trimEnd();
  } catch {
    return '(its output could not be read)';
  }
}
