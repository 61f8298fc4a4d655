// Debian's Prometheus (apt package `prometheus`): promtool parses and lints an exposition and
// checks configs and rules; the server scrapes for real. Suites skip without it, and fail
// instead when KILN_TEST_REQUIRE_PROMETHEUS=1 (as in CI).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';

/** Whether promtool and prometheus are here; throws when KILN_TEST_REQUIRE_PROMETHEUS=1 and they are not. */
export function hasPrometheus(): boolean {
  if (existsSync(PROMTOOL) && existsSync(PROMETHEUS)) return true;
  if (process.env.KILN_TEST_REQUIRE_PROMETHEUS === '1') throw new Error(`KILN_TEST_REQUIRE_PROMETHEUS=1 but ${PROMTOOL} or ${PROMETHEUS} is missing (apt-get install prometheus)`);
  return false;
}

/** Runs `promtool …args` with `stdin`; resolves with its exit code and output (stdout and stderr together). */
export function promtool(args: string[], stdin = ''): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin!.end(stdin);
  });
}

/** A prometheus server on `port` with `configFile`, its data in `dataDir`; kill it with the returned function. */
export function startPrometheus(configFile: string, dataDir: string, port: number): { output(): string; stop(): void } {
  const child = spawn(PROMETHEUS, [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return { output: () => output, stop: () => void child.kill('SIGKILL') };
}
