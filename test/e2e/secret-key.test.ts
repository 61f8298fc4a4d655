// End to end: a repo secret set through the API reaches its job, and is nowhere in clear in the
// data folder; a server whose key is missing or wrong refuses to start, in one line.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderBytes } from '../helpers/files.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { jobLog, jobOf, killAll, runEnded, runOfCommit, startAgent, startServer, KILN } from '../helpers/kiln.js';
import { spawn } from 'node:child_process';

const VALUE = 'hunter2-e2e-secret-value';
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

/** Every file under `dir`, as bytes. */

/** `kiln server` on `dataDir` that is expected to stop at once: its exit code and output. */
async function failedStart(dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const cwd = await makeTempDir('kiln-cwd-');
  writeFileSync(join(cwd, 'kiln.yml'), 'repos: []\npools: []\n');
  const proc = spawn(process.execPath, [KILN, 'server'], { cwd, env: { ...process.env, KILN_PORT: '0', KILN_DATA: dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  return { code, output };
}

describe('the secret key', () => {
  it('seals repo secrets: the job gets the value, the data folder holds it nowhere in clear, and a wrong or missing key stops the start', async () => {
    const server = await startServer({ repos: { web: repo.path } });
    expect((await server.api('PUT', '/api/repos/web/secrets/TOKEN', { value: VALUE })).status).toBe(200);
    const sha = await repo.commit({
      // The value itself stays out of the pipeline (plans are stored): its length stands in.
      'pipeline.yml': `jobs:\n  use:\n    secrets: [TOKEN]\n    steps: [{ run: 'test "\${#TOKEN}" -eq ${VALUE.length} && echo "the secret arrived: $TOKEN"' }]\n`,
    });
    await startAgent(server);
    const run = await runOfCommit(server, 'web', sha);
    expect((await runEnded(server, run.id)).status).toBe('success');
    const log = await jobLog(server, (await jobOf(server, run.id, 'use')).id);
    expect(log.join('\n')).toContain('the secret arrived: ***');
    await killAll();

    expect(statSync(join(server.dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(folderBytes(server.dataDir).includes(VALUE)).toBe(false);

    const otherKey = join(await makeTempDir('kiln-key-'), 'other.key');
    writeFileSync(otherKey, `${randomBytes(32).toString('base64')}\n`);
    const wrong = await failedStart(server.dataDir, { KILN_SECRET_KEY_FILE: otherKey });
    expect(wrong.code).toBe(1);
    expect(wrong.output.trim()).toBe(`kiln server: secret key ${otherKey} is not the key this data folder's values were sealed with`);

    renameSync(join(server.dataDir, 'secret.key'), join(server.dataDir, 'secret.key.moved'));
    const missing = await failedStart(server.dataDir);
    expect(missing.code).toBe(1);
    expect(missing.output.trim()).toBe(`kiln server: secret key ${join(server.dataDir, 'secret.key')} is missing, and the database holds values sealed with it: restore that file (or point KILN_SECRET_KEY_FILE at it)`);
    expect(readdirSync(server.dataDir)).not.toContain('secret.key'); // never silently made anew

    renameSync(join(server.dataDir, 'secret.key.moved'), join(server.dataDir, 'secret.key'));
    const again = await startServer({ dataDir: server.dataDir, repos: { web: repo.path } });
    expect((await again.api('GET', '/api/repos/web/secrets')).body).toEqual(['TOKEN']);
  });
});
