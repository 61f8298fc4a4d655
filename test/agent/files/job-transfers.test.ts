// A job's artifacts and caches end to end on the agent: the real job runner, checkout, shell
// executor and transfer client, against a loopback server that answers as the files contract says.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShellExecutor } from '../../../agent/executors/shell.js';
import { createCheckout } from '../../../agent/git/checkout.js';
import { createJobRunner, type JobEnd } from '../../../agent/jobs/run-assignment.js';
import type { JobOutbox, Outbox } from '../../../agent/jobs/outbox.js';
import { createMirrors } from '../../../server/git/mirror.js';
import type { PlannedJob } from '../../../shared/pipeline/types.js';
import type { JobAssignment, NeededArtifact } from '../../../shared/protocol/messages.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, serveGitMirrors, type GitHttpServer } from '../../helpers/git.js';
import { plannedJob, plannedStep } from '../../helpers/plan.js';
import { startContractServer, type ContractServer } from './contract-server.js';

const TOKEN = 'agent-token-files';
let git: GitHttpServer;
let files: ContractServer;
let sha = '';
let workDir = '';
let nextJob = 100;

beforeAll(async () => {
  await isolateGit();
  const repo = await createRepo();
  sha = await repo.commit({ 'README.md': 'hello\n', 'package-lock.json': '{"lock":1}\n' });
  const mirror = join(await makeTempDir(), 'web.git');
  await createMirrors().fetchMirror({ path: repo.path }, mirror);
  git = await serveGitMirrors({ web: mirror }, TOKEN);
  files = await startContractServer();
});
afterAll(async () => {
  await git?.close();
  await files?.close();
  await removeTempDirs();
});

/** Runs one job on a fresh agent work folder (or `workDir` again) and returns its end and log lines. */
async function run(job: Partial<PlannedJob> & Pick<PlannedJob, 'steps'>, o: { needs?: NeededArtifact[]; noFiles?: boolean; cancelAfterMs?: number; sameAgent?: boolean; artifactMaxBytes?: number } = {}) {
  if (!o.sameAgent || workDir === '') workDir = await makeTempDir('kiln-agent-files-');
  const jobId = nextJob++;
  const lines: string[] = [];
  const outbox: Outbox = {
    begin: async (): Promise<JobOutbox> => ({ step() {}, chunk: (c) => lines.push(...c.lines.map((l) => l.text)), finish: async () => {} }),
  } as unknown as Outbox;
  const runner = createJobRunner({
    workspacesDir: join(workDir, 'workspaces'), outbox, logger: pino({ level: 'silent' }),
    checkout: createCheckout({ cacheDir: join(workDir, 'git'), serverUrl: git.url, token: TOKEN }),
    executorFor: () => createShellExecutor({ baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }),
    transfers: {
      serverUrl: files.url, transfersDir: join(workDir, 'transfers'), cacheBlobsDir: join(workDir, 'cache-blobs'), cacheLocalMaxBytes: 1024 ** 3,
      retry: { initialMs: 10, maxMs: 20, totalMs: 500 },
    },
  });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(workDir, 'transfers'), { recursive: true });
  await mkdir(join(workDir, 'cache-blobs'), { recursive: true });
  const a: JobAssignment = {
    jobId, runId: 1, attempt: 1, token: `lease-${jobId}`, repo: 'web', gitUrl: '', sha, ref: 'refs/heads/main',
    job: plannedJob(job.steps, { name: `job-${jobId}`, ...job }),
    env: { CI: 'true' }, secrets: ['s3cr3t'], logCapBytes: 16 * 1024 * 1024,
    ...(o.noFiles ? {} : { files: { token: files.tokenOf(jobId), artifactMaxBytes: o.artifactMaxBytes ?? 1024 ** 3, cacheMaxBytes: 1024 ** 3, artifacts: o.needs ?? [] } }),
  };
  const cancel = new AbortController();
  if (o.cancelAfterMs !== undefined) setTimeout(() => cancel.abort('cancelled by a test'), o.cancelAfterMs);
  const end: JobEnd = await runner(a, cancel.signal, () => {});
  return { end, lines, jobId, kiln: lines.filter((l) => /^(kiln: (artifact|cache)|✖)/.test(l)) };
}

const requestsSince = (n: number) => files.requests.slice(n);

describe('artifacts on the agent', () => {
  it('uploads a succeeded job\'s artifact, and a job that needs it finds it unpacked before its first step', async () => {
    const build = await run({ steps: [plannedStep('mkdir -p dist/sub && echo built > dist/out.txt && echo deep > dist/sub/x && ln -s out.txt dist/link')], artifacts: { name: 'dist', paths: ['dist/'], expireMs: null } });
    expect(build.end).toMatchObject({ status: 'success' });
    expect(build.kiln).toEqual([expect.stringMatching(/^kiln: artifact "dist" uploaded: \d+(\.\d)? (bytes|KiB) in \d+\.\d\d s$/)]);
    const stored = files.artifacts.find((x) => x.jobId === build.jobId)!;
    const needs = [{ id: stored.id, job: `job-${build.jobId}`, name: 'dist', size: stored.data.length, sha256: stored.sha256 }];
    const test = await run({ steps: [plannedStep('cat dist/out.txt dist/sub/x dist/link; test -L dist/link')] }, { needs });
    expect(test.end).toMatchObject({ status: 'success' });
    expect(test.kiln).toEqual([expect.stringMatching(new RegExp(`^kiln: artifact "dist" from job-${build.jobId}: \\d+(\\.\\d)? (bytes|KiB) in \\d+\\.\\d\\d s$`))]);
    expect(test.lines).toEqual(expect.arrayContaining(['built', 'deep']));
    expect(test.lines.indexOf(test.kiln[0]!)).toBeLessThan(test.lines.findIndex((l) => l.startsWith('▶ ')));
  });

  it('ends a job error when a needed artifact does not match its digest, before any step', async () => {
    const stored = files.artifacts[0]!;
    const r = await run({ steps: [plannedStep('echo never')] }, { needs: [{ id: stored.id, job: 'build', name: 'dist', size: 1, sha256: 'f'.repeat(64) }] });
    expect(r.end).toMatchObject({ status: 'error', reason: expect.stringMatching(/^artifact "dist" from build: the download's sha256 is [0-9a-f]{12}…, expected ffffffffffff…$/) });
    expect(r.lines).not.toContain('never');
  });

  it('fails a succeeded job whose artifact holds a symlink out of the workspace, with that reason, and uploads nothing', async () => {
    const before = files.artifacts.length;
    const r = await run({ steps: [plannedStep('mkdir dist && ln -s /etc dist/evil')], artifacts: { name: 'dist', paths: ['dist/'], expireMs: null } });
    expect(r.end).toEqual({ status: 'failed', exitCode: null, reason: 'artifact "dist": dist/evil is a symlink to /etc (outside the workspace)' });
    expect(r.kiln).toEqual(['✖ artifact "dist": dist/evil is a symlink to /etc (outside the workspace)']);
    expect(files.artifacts.length).toBe(before);
  });

  it('fails a job whose archive is over artifact_max without sending it', async () => {
    const n = files.requests.length;
    const r = await run({ steps: [plannedStep('mkdir dist && head -c 100000 /dev/urandom > dist/big')], artifacts: { name: 'dist', paths: ['dist/'], expireMs: null } }, { artifactMaxBytes: 1024 });
    expect(r.end).toMatchObject({ status: 'failed', reason: 'artifact "dist" is over server.artifact_max (1.0 KiB)' });
    expect(requestsSince(n)).toEqual([]);
  });

  it('warns and uploads nothing when no file matched', async () => {
    const n = files.requests.length;
    const r = await run({ steps: [plannedStep('true')], artifacts: { name: 'x', paths: ['dist/', 'out/*.txt'], expireMs: null } });
    expect(r.end).toMatchObject({ status: 'success' });
    expect(r.kiln).toEqual(['kiln: artifact "x": no files matched dist/, out/*.txt']);
    expect(requestsSince(n)).toEqual([]);
  });

  it('uploads by when: on_failure for a failed job only, never for a cancelled one', async () => {
    const onFailure = { name: 'logs', paths: ['log.txt'], expireMs: null, when: 'on_failure' as const };
    const failed = await run({ steps: [plannedStep('echo bad > log.txt; exit 3')], artifacts: onFailure });
    expect(failed.end).toMatchObject({ status: 'failed', exitCode: 3, reason: 'step "echo bad > log.txt; exit 3" failed' });
    expect(failed.kiln).toEqual([expect.stringMatching(/^kiln: artifact "logs" uploaded: /)]);
    const passed = await run({ steps: [plannedStep('echo ok > log.txt')], artifacts: onFailure });
    expect(passed.kiln).toEqual([]);
    const n = files.requests.length;
    const cancelled = await run({ steps: [plannedStep('echo x > log.txt; sleep 5')], artifacts: { ...onFailure, when: 'always' } }, { cancelAfterMs: 1500 });
    expect(cancelled.end).toMatchObject({ status: 'cancelled', reason: 'cancelled by a test' });
    expect(requestsSince(n)).toEqual([]);
  });

  it('does nothing for an assignment without files (an older server)', async () => {
    const n = files.requests.length;
    const r = await run({ steps: [plannedStep('mkdir dist && touch dist/a')], artifacts: { name: 'dist', paths: ['dist/'], expireMs: null }, cache: { key: 'k', paths: ['dist/'] } }, { noFiles: true });
    expect(r.end).toMatchObject({ status: 'success' });
    expect(r.kiln).toEqual([]);
    expect(requestsSince(n)).toEqual([]);
  });
});

describe('caches on the agent', () => {
  const cache = { key: 'npm-${{ hashFiles(\'package-lock.json\') }}', paths: ['node_modules/'], restoreKeys: ['npm-'] };
  const install = plannedStep('if [ -f node_modules/pkg ]; then echo "restored: $(cat node_modules/pkg)"; else mkdir -p node_modules && echo v1 > node_modules/pkg; fi');

  it('misses and saves; then hits exactly from the local copy without downloading, and does not save again', async () => {
    const first = await run({ steps: [install], cache });
    expect(first.end).toMatchObject({ status: 'success' });
    const key = first.kiln[0]!.replace('kiln: cache miss ', '');
    expect(key).toMatch(/^npm-[0-9a-f]{64}$/);
    expect(first.kiln).toEqual([`kiln: cache miss ${key}`, expect.stringMatching(new RegExp(`^kiln: cache saved ${key} \\(\\d+ bytes, \\d+\\.\\d\\d s\\)$`))]);
    const saved = files.caches.find((c) => c.name === key)!;
    expect(existsSync(join(workDir, 'cache-blobs', `${saved.sha256}.tgz`))).toBe(true);

    const n = files.requests.length;
    const second = await run({ steps: [install], cache }, { sameAgent: true });
    expect(second.kiln).toEqual([expect.stringMatching(new RegExp(`^kiln: cache hit ${key} \\(exact\\): \\d+ bytes in \\d+\\.\\d\\d s$`)), 'kiln: cache not saved: exact hit']);
    expect(second.lines).toContain('restored: v1');
    expect(requestsSince(n).filter((r) => r.startsWith('GET /api/caches/'))).toEqual([]);

    const elsewhere = await run({ steps: [install], cache });
    expect(elsewhere.lines).toContain('restored: v1');
    expect(files.requests.at(-1)).toBe(`GET /api/caches/${saved.id}`);
    expect(await readdir(join(workDir, 'cache-blobs'))).toEqual([`${saved.sha256}.tgz`]);
  });

  it('restores the newest entry of a restore-key prefix, and saves under its own key', async () => {
    const r = await run({ steps: [install], cache: { ...cache, key: 'npm-other' } });
    expect(r.kiln[0]).toMatch(/^kiln: cache hit npm-[0-9a-f]{64} \(prefix npm-\): \d+ bytes in \d+\.\d\d s$/);
    expect(r.kiln[1]).toMatch(/^kiln: cache saved npm-other /);
  });

  it('says why a cache is not saved: policy pull, a failed job, an existing key (409) with policy push', async () => {
    const pulled = await run({ steps: [install], cache: { ...cache, key: 'pull-only', policy: 'pull' } });
    expect(pulled.kiln).toEqual([expect.stringMatching(/^kiln: cache hit npm-other \(prefix npm-\): /), 'kiln: cache not saved: policy pull']);
    expect((await run({ steps: [plannedStep('exit 1')], cache: { key: 'k-fail', paths: ['x/'] } })).kiln).toEqual(['kiln: cache miss k-fail', 'kiln: cache not saved: the job did not succeed']);
    const pushed = await run({ steps: [install], cache: { ...cache, key: 'npm-other', policy: 'push' } });
    expect(pushed.kiln).toEqual(['kiln: cache not restored: policy push', 'kiln: cache not saved: npm-other exists']);
  });

  it('does not save a cache holding a symlink out of the workspace, and the job still succeeds', async () => {
    const r = await run({ steps: [plannedStep('mkdir c && ln -s /etc/passwd c/pw')], cache: { key: 'evil', paths: ['c/'] } });
    expect(r.end).toMatchObject({ status: 'success' });
    expect(r.kiln).toEqual(['kiln: cache miss evil', 'kiln: cache not saved: c/pw is a symlink to /etc/passwd (outside the workspace)']);
  });
});
