// `kiln artifacts` as a user runs it: the built CLI in a child process against a real server.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { c as pack } from 'tar';
import { describe, expect, it } from 'vitest';
import { plannedJob } from '../server/store/fixtures.js';
import { dataDir, startKiln, upload } from '../server/artifacts/fixture.js';

const KILN = join(import.meta.dirname, '../../dist/bundle/kiln.js');

async function kiln(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [KILN, ...args], { env: { ...process.env, KILN_SERVER: '', KILN_TOKEN: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A real .tar.gz of `files` (relative path → text). */
async function archive(files: Record<string, string>): Promise<Buffer> {
  const src = dataDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(src, path, '..'), { recursive: true });
    writeFileSync(join(src, path), text);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of pack({ gzip: true, cwd: src, portable: true }, Object.keys(files))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('kiln artifacts', () => {
  it('lists a run\'s artifacts, one job\'s, and downloads, checks and unpacks them', async () => {
    const k = await startKiln();
    const run = k.run(plannedJob('build'), plannedJob('docs'));
    const build = k.claim(run.id, 'build');
    const docs = k.claim(run.id, 'docs');
    await upload(k.url, build.jobId, 'dist', await archive({ 'dist/app.js': 'console.log(1)\n' }), build.token);
    await upload(k.url, docs.jobId, 'site', await archive({ 'site/index.html': '<h1>hi</h1>\n' }), docs.token);

    const listed = await kiln(['artifacts', String(run.id), '--server', k.url]);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+JOB\s+SIZE\s+SHA256\s+EXPIRES$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([['dist', 'build'], ['site', 'docs']]);

    const one = await kiln(['artifacts', `${run.id}/docs`, '--server', k.url]);
    expect(one.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['site']);
    expect(await kiln(['artifacts', `${run.id}/nope`, '--server', k.url])).toMatchObject({ code: 1, stderr: expect.stringMatching(/ has no job named "nope"; its jobs: .*\bdocs\b/) });

    const into = join(dataDir(), 'out');
    const fetched = await kiln(['artifacts', String(run.id), '--download', into, '--server', k.url]);
    expect(fetched.code).toBe(0);
    expect(readFileSync(join(into, 'dist', 'dist', 'app.js'), 'utf8')).toBe('console.log(1)\n');
    expect(readFileSync(join(into, 'site', 'site', 'index.html'), 'utf8')).toBe('<h1>hi</h1>\n');
  });

  it('unpacks nothing from a download whose sha256 is not the listed one', async () => {
    const k = await startKiln();
    const run = k.run(plannedJob('build'));
    const build = k.claim(run.id, 'build');
    const { artifact } = (await upload(k.url, build.jobId, 'dist', await archive({ 'a.txt': 'a' }), build.token)).json();
    // The file on disk rots (or is replaced) after the upload was checked.
    writeFileSync(join(k.data, 'artifacts', 'sha256', artifact.sha256.slice(0, 2), artifact.sha256), await archive({ 'b.txt': 'b' }));
    const into = join(dataDir(), 'out');
    const result = await kiln(['artifacts', String(run.id), '--download', into, '--server', k.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/dist: the download's sha256 is [0-9a-f]{64}, not [0-9a-f]{64}; nothing unpacked/);
    expect(existsSync(join(into, 'dist'))).toBe(false);
  });
});
