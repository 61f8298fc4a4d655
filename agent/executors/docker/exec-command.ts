// Runs a short helper command in a container (stop a step, check a shell) and waits for it, bounded.
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecCommandResult {
  /** null when the command did not end within the timeout (it is left to the container's removal). */
  exitCode: number | null;
  /** stdout and stderr together: for messages only. */
  output: string;
}

/**
 * Runs `cmd` (no shell added) as `user` (default the container's) and resolves when it ended
 * or after `timeoutMs`. Rejects only when the daemon refuses the exec (e.g. container gone).
 */
export async function execCommand(
  container: Docker.Container, cmd: string[], options: { user?: string; timeoutMs: number },
): Promise<ExecCommandResult> {
  const exec = await container.exec({
    Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false,
    ...(options.user !== undefined ? { User: options.user } : {}),
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const chunks: Buffer[] = [];
  const ended = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      stream.destroy();
      resolve(false);
    }, options.timeoutMs);
    stream.on('data', (data: Buffer) => chunks.push(data));
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
  // Frames are "type(1) 0 0 0 size(4) payload"; keep the payloads.
  const output = demuxAll(Buffer.concat(chunks)).toString('utf8');
  if (!ended) return { exitCode: null, output };
  return { exitCode: await exitCodeOf(exec), output };
}

/** The exec's exit code once the daemon reports it ended (it may lag the stream by a moment). */
export async function exitCodeOf(exec: Docker.Exec, waitMs = 3000, pollMs = 50): Promise<number | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const info = await exec.inspect().catch(() => null);
    if (!info) return null;
    if (!info.Running) return info.ExitCode ?? null;
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function demuxAll(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts);
}
