// The git server of git-server.ts in a process of its own, for benchmarks: its `git
// http-backend` CGIs are spawned on that process's thread, so they neither hold up nor are
// held up by the benchmark's own client (spawn blocks the thread that calls it).
// Forked with [root, token]; sends {port} once it listens.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createBareRepo, startGitServer, type GitServerOptions } from './git-server.js';

export interface GitServerProcess {
  url(name: string): string;
  createRepo(name: string): string;
  close(): Promise<void>;
}

export async function startGitServerProcess({ root, token }: GitServerOptions): Promise<GitServerProcess> {
  const child = fork(fileURLToPath(import.meta.url), [root, token ?? ''], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`the git server exited with ${code}`)));
  });
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    // Here, not in the child: it touches only the folder, and the child is not this thread.
    createRepo: (name) => createBareRepo(root, name),
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const [root, token] = process.argv.slice(2);
  const server = await startGitServer({ root: root!, token: token || null });
  process.send({ port: Number(new URL(server.url('x')).port) });
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
