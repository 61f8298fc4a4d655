// End to end: artifacts between jobs on a real server and agent. A build job's output reaches
// the job that needs it byte for byte (a symlink inside kept), downloads through the API match
// their sha256 (whole and by Range), paths that leave the workspace fail their job with the
// reason, an expired artifact is gone (row and file), and a server killed in the middle of an
// upload keeps no half file while the agent sends the archive again.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, watch } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { ADMIN_TOKEN, KILN, eventually, freePort, jobLog, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const exec = promisify(execFile);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const PIPELINE = (outside: string) => `jobs:
  build:
    steps:
      - run: |
          mkdir -p dist/sub
          head -c 300000 /dev/urandom > dist/app.bin
          echo "hello" > dist/sub/note.txt
          ln -s app.bin dist/link
          echo "built=$(sha256sum dist/app.bin | cut -c1-64)"
    artifacts:
      name: web-dist
      paths: [dist/]
      expire: 7d
  test:
    needs: [build]
    steps:
      - run: |
          echo "got=$(sha256sum dist/app.bin | cut -c1-64)"
          echo "link=$(readlink dist/link) note=$(cat dist/sub/note.txt)"
  lint:
    needs: [{ job: build, artifacts: false }]
    steps:
      - run: if [ -e dist ]; then echo "lint sees dist"; else echo "lint sees no dist"; fi
  report:
    steps:
      - run: echo "report" > report.txt; exit 3
    artifacts: { paths: [report.txt], when: on_failure }
    allow_failure: true
  not-kept:
    steps: [{ run: "echo kept > kept.txt; exit 3" }]
    artifacts: { paths: [kept.txt] }
    allow_failure: true
  escape-dotdot:
    steps: [{ run: "true" }]
    artifacts: { paths: ["../outside.txt"] }
    allow_failure: true
  escape-absolute:
    steps: [{ run: "true" }]
    artifacts: { paths: [/etc/hostname] }
    allow_failure: true
  escape-symlink:
    steps: [{ run: "mkdir -p out && ln -s /etc out/etc" }]
    artifacts: { paths: [out/] }
    allow_failure: true
  escape-hardlink:
    steps: [{ run: "mkdir -p out && ln ${outside} out/stolen" }]
    artifacts: { paths: [out/] }
    allow_failure: true
`;

let repo: TestRepo;
let briefRepo: TestRepo;
let server: ServerProcess;
let outside: string;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  // A file on the agent's host, outside any workspace, that a step hard-links into its workspace.
  outside = join(await makeTempDir('kiln-outside-'), 'host-secret.txt');
  await writeFile(outside, 'not for artifacts\n');
  await repo.commit({ 'pipeline.yml': PIPELINE(outside) });
  briefRepo = await createRepo();
  await briefRepo.commit({ 'pipeline.yml': 'jobs:\n  brief:\n    steps: [{ run: "echo brief > brief.txt" }]\n    artifacts: { paths: [brief.txt], expire: 1s }\n' });
  server = await startServer({ repos: { web: repo.path, brief: briefRepo.path } });
  await startAgent(server);
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const lineOf = async (jobId: number, prefix: string) => (await jobLog(server, jobId)).find((l) => l.startsWith(prefix)) ?? '(no line)';
const jobNamed = (run: { jobs: Array<{ name: string; id: number; status: string; reason: string | null }> }, name: string) => run.jobs.find((j) => j.name === name)!;

describe('artifacts', () => {
  let run: any;

  beforeAll(async () => {
    const { body } = await server.api('POST', '/api/repos/web/runs', {});
    run = await runEnded(server, body.id, 60_000);
  }, 90_000);

  it('reach the job that needs them byte for byte, a symlink kept as a symlink; artifacts: false opts out', async () => {
    const build = jobNamed(run, 'build');
    const test = jobNamed(run, 'test');
    expect(build.status).toBe('success');
    expect(test.status).toBe('success');
    const built = (await lineOf(build.id, 'built=')).slice('built='.length);
    expect(built).toMatch(/^[0-9a-f]{64}$/);
    expect(await lineOf(test.id, 'got=')).toBe(`got=${built}`);
    expect(await lineOf(test.id, 'link=')).toBe('link=app.bin note=hello');
    expect((await jobLog(server, test.id)).some((l) => /^kiln: artifact "web-dist" from build: [\d.]+ (KiB|MiB|bytes) in [\d.]+ s$/.test(l))).toBe(true);
    expect(await lineOf(jobNamed(run, 'lint').id, 'lint sees')).toBe('lint sees no dist');
  });

  it('are listed and downloaded through the API with their sha256, whole and by Range', async () => {
    const build = jobNamed(run, 'build');
    const { status, body } = await server.api('GET', `/api/jobs/${build.id}/artifacts`);
    expect(status).toBe(200);
    expect(body).toEqual([expect.objectContaining({ name: 'web-dist', size: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), expires_at: expect.any(String) })]);
    const artifact = body[0];
    expect(Date.parse(artifact.expires_at) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const whole = await fetch(`${server.url}/api/artifacts/${artifact.id}`);
    expect(whole.status).toBe(200);
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes.length).toBe(artifact.size);
    expect(sha256(bytes)).toBe(artifact.sha256);
    const part = await fetch(`${server.url}/api/artifacts/${artifact.id}`, { headers: { range: 'bytes=10-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-99/${artifact.size}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(10, 100));
    expect((await fetch(`${server.url}/api/artifacts/${artifact.id}`, { headers: { range: `bytes=${artifact.size + 10}-` } })).status).toBe(416);
    // The archive holds the files as the job left them.
    const dir = await makeTempDir('kiln-unpacked-');
    await writeFile(join(dir, 'a.tar.gz'), bytes);
    await mkdir(join(dir, 'x'));
    await tar.x({ file: join(dir, 'a.tar.gz'), cwd: join(dir, 'x') });
    expect(sha256(await readFile(join(dir, 'x', 'dist', 'app.bin')))).toBe((await lineOf(build.id, 'built=')).slice('built='.length));
    const listed = await server.api('GET', `/api/runs/${run.id}/artifacts`);
    expect(listed.body.map((a: { name: string }) => a.name).sort()).toEqual(['report', 'web-dist']);
  });

  it('are listed and downloaded by `kiln artifacts`, checked and unpacked', async () => {
    const env = { ...process.env, KILN_SERVER: server.url, KILN_TOKEN: ADMIN_TOKEN };
    const list = await exec(process.execPath, [KILN, 'artifacts', `${run.id}/build`], { env });
    expect(list.stdout).toMatch(/^NAME\s+JOB\s+SIZE\s+SHA256\s+EXPIRES\nweb-dist\s+build\s+[\d.]+ KiB\s+[0-9a-f]{12}\s+\d{4}-/);
    const dir = await makeTempDir('kiln-download-');
    const got = await exec(process.execPath, [KILN, 'artifacts', `web#${run.number}`, '--download', dir], { env });
    expect(got.stdout).toContain(`web-dist: `);
    const built = (await lineOf(jobNamed(run, 'build').id, 'built=')).slice('built='.length);
    expect(sha256(await readFile(join(dir, 'web-dist', 'dist', 'app.bin')))).toBe(built);
    expect(await readFile(join(dir, 'report', 'report.txt'), 'utf8')).toBe('report\n');
    const missing = await exec(process.execPath, [KILN, 'artifacts', `${run.id}/nope`], { env }).catch((error: { stderr: string; code: number }) => error);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('has no job named "nope"') });
  });

  it('refuse paths that leave the workspace: the job fails with the reason, and nothing is stored', async () => {
    for (const [name, why] of [
      ['escape-dotdot', /\.\./],
      ['escape-absolute', /absolute|\/etc\/hostname/],
      ['escape-symlink', /symlink|symbolic link/],
      ['escape-hardlink', /hard link/],
    ] as const) {
      const job = jobNamed(run, name);
      expect(job.status, name).toBe('failed');
      expect(job.reason, name).toMatch(why);
      expect((await jobLog(server, job.id)).some((l) => l.startsWith('✖ artifact') && why.test(l)), name).toBe(true);
      expect((await server.api('GET', `/api/jobs/${job.id}/artifacts`)).body).toEqual([]);
    }
    expect(run.status).toBe('success'); // they allow failure: the run went on
  });

  it('are kept by `when`: on_failure keeps a failed job\'s, the default on_success does not', async () => {
    const report = jobNamed(run, 'report');
    expect(report.status).toBe('failed');
    const [artifact] = (await server.api('GET', `/api/jobs/${report.id}/artifacts`)).body;
    expect(artifact).toMatchObject({ name: 'report', job: 'report' });
    const notKept = jobNamed(run, 'not-kept');
    expect(notKept.status).toBe('failed');
    expect((await server.api('GET', `/api/jobs/${notKept.id}/artifacts`)).body).toEqual([]);
  });

  it('expire: an expired one is listed nowhere, answers 404, and a restart deletes its row and file', async () => {
    // Its own repo, so its second of life races no other test's listing.
    const { body } = await server.api('POST', '/api/repos/brief/runs', {});
    const briefRun = await runEnded(server, body.id, 20_000);
    const brief = jobNamed(briefRun, 'brief');
    expect(brief.status).toBe('success');
    expect(await lineOf(brief.id, 'kiln: artifact "brief" uploaded')).toMatch(/uploaded: \d+ bytes in/);
    // The API no longer names an expired artifact, so its row is read from the server's database.
    const row = () => {
      const db = new Database(join(server.dataDir, 'kiln.db'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT id, sha256 FROM artifacts WHERE job_id = ?').get(brief.id) as { id: number; sha256: string } | undefined;
      } finally {
        db.close();
      }
    };
    const stored = row()!;
    const file = join(server.dataDir, 'artifacts', 'sha256', stored.sha256.slice(0, 2), stored.sha256);
    expect(existsSync(file)).toBe(true);
    await eventually(async () => (await fetch(`${server.url}/api/artifacts/${stored.id}`)).status === 404, 10_000, 'the artifact to expire');
    expect((await server.api('GET', `/api/jobs/${brief.id}/artifacts`)).body).toEqual([]);
    expect((await server.api('GET', `/api/runs/${briefRun.id}/artifacts`)).body).toEqual([]);
    // The sweeper runs at start: a restart removes the row and the file at once.
    await server.kill('SIGTERM');
    server = await startServer({ port: server.port, dataDir: server.dataDir, repos: { web: repo.path, brief: briefRepo.path } });
    await eventually(() => !existsSync(file), 10_000, 'the expired file to be deleted');
    expect(row()).toBeUndefined();
    await startAgent(server);
  }, 30_000);
});

describe('an upload cut by a server restart', () => {
  it('leaves no half file, and the agent sends the archive again', async () => {
    const big = await createRepo();
    await big.commit({ 'pipeline.yml': `jobs:\n  big:\n    steps:\n      - run: head -c 60000000 /dev/urandom > big.bin; sha256sum big.bin | cut -c1-64 > big.sum\n    artifacts: { paths: [big.bin, big.sum] }\n` });
    const port = await freePort();
    let kiln = await startServer({ port, repos: { big: big.path } });
    await startAgent(kiln);
    const tmp = join(kiln.dataDir, 'artifacts', 'tmp');
    const partialSeen = new Promise<void>((resolve) => {
      const watcher = watch(tmp, () => {
        if (readdirSync(tmp).length > 0) {
          watcher.close();
          resolve();
        }
      });
    });
    const { body } = await kiln.api('POST', '/api/repos/big/runs', {});
    await partialSeen;
    await kiln.kill('SIGKILL');
    kiln = await startServer({ port, dataDir: kiln.dataDir, repos: { big: big.path } });
    const ended = await runEnded(kiln, body.id, 90_000);
    expect(ended.status).toBe('success');
    expect(readdirSync(tmp)).toEqual([]);
    const [artifact] = (await kiln.api('GET', `/api/jobs/${ended.jobs[0].id}/artifacts`)).body;
    const bytes = Buffer.from(await (await fetch(`${kiln.url}/api/artifacts/${artifact.id}`)).arrayBuffer());
    expect(sha256(bytes)).toBe(artifact.sha256);
    const dir = await makeTempDir('kiln-big-');
    await writeFile(join(dir, 'a.tgz'), bytes);
    await tar.x({ file: join(dir, 'a.tgz'), cwd: dir });
    expect(sha256(await readFile(join(dir, 'big.bin')))).toBe((await readFile(join(dir, 'big.sum'), 'utf8')).trim());
  }, 120_000);
});

describe('limits and damage', () => {
  const PIPELINE_LIMITS = `jobs:
  too-big:
    steps: [{ run: "head -c 200000 /dev/urandom > big.bin" }]
    artifacts: { paths: [big.bin] }
    allow_failure: true
  nothing:
    steps: [{ run: "true" }]
    artifacts: { paths: [missing/] }
  small:
    steps: [{ run: "echo small > small.txt" }]
    artifacts: { paths: [small.txt] }
  reader:
    needs: [small]
    approval: true
    steps: [{ run: cat small.txt }]
`;

  it('an artifact over server.artifact_max fails its job with the reason while the run goes on; no match warns; a damaged download fails the job that needs it', async () => {
    const limited = await createRepo();
    await limited.commit({ 'pipeline.yml': PIPELINE_LIMITS });
    const kiln = await startServer({ config: `repos:\n  - { name: lim, path: ${JSON.stringify(limited.path)} }\npools: []\nserver:\n  lease_timeout: 5s\n  artifact_max: 64KiB\n` });
    await startAgent(kiln);
    const { body } = await kiln.api('POST', '/api/repos/lim/runs', {});
    const small = await eventually(async () => {
      const job = (await kiln.api('GET', `/api/runs/${body.id}`)).body.jobs.find((j: { name: string }) => j.name === 'small');
      return job.status === 'success' ? job : null;
    }, 30_000, 'the small job');
    // The archive on the server is damaged before the job that needs it starts.
    const [artifact] = (await kiln.api('GET', `/api/jobs/${small.id}/artifacts`)).body;
    await writeFile(join(kiln.dataDir, 'artifacts', 'sha256', artifact.sha256.slice(0, 2), artifact.sha256), 'not the archive');
    const reader = (await kiln.api('GET', `/api/runs/${body.id}`)).body.jobs.find((j: { name: string }) => j.name === 'reader');
    expect((await kiln.api('POST', `/api/jobs/${reader.id}/approve`, {})).status).toBe(200);
    const run = await runEnded(kiln, body.id, 60_000);
    const jobs = Object.fromEntries(run.jobs.map((j: { name: string }) => [j.name, j]));

    expect(jobs['too-big'].status).toBe('failed');
    expect(jobs['too-big'].reason).toMatch(/artifact "too-big" is over server\.artifact_max \(64\.0 KiB\)/);
    expect(await kiln.api('GET', `/api/jobs/${jobs['too-big'].id}/artifacts`).then((r) => r.body)).toEqual([]);
    const tooBig = await jobLog(kiln, jobs['too-big'].id);
    expect(tooBig.some((l) => l.startsWith('✖') && l.includes('server.artifact_max'))).toBe(true);
    // Its steps passed; the last line says what failed it.
    expect(tooBig.at(-1)).toMatch(/^kiln: job failed: artifact "too-big" is over server\.artifact_max .* \(after \d/);

    expect(jobs.nothing.status).toBe('success');
    expect(await jobLog(kiln, jobs.nothing.id)).toContain('kiln: artifact "nothing": no files matched missing/');

    expect(jobs.reader.status).toBe('error');
    expect(jobs.reader.reason).toMatch(/sha256/);
    expect(await jobLog(kiln, jobs.reader.id)).not.toContain('small');
    expect(readdirSync(join(kiln.dataDir, 'artifacts', 'tmp'))).toEqual([]);
  }, 90_000);
});
