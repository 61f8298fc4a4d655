// The retention sweeper on a real SQLite file and real artifact files, with a fake clock:
// what nothing keeps is gone (rows and files), what is still referenced stays, and the
// database hands its freed pages back.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createArtifactSweeper } from '../../../server/files/artifact-sweeper.js';
import { createBlobStore } from '../../../server/files/blob-store.js';
import { createRetentionSweeper, type Sweepable } from '../../../server/retention/sweeper.js';
import { newRun, plan, plannedJob, tempDir, tempStore, textLines } from '../store/fixtures.js';

const DAY = 86_400_000;
const logger = pino({ level: 'silent' });

function fixture(keepLast = 2) {
  const { store, clock, file } = tempStore();
  const blobs = createBlobStore(join(tempDir(), 'artifacts'));
  const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const agent = store.agents.registerAgent({ name: 'agent-1', labels: [], pool: null, capacity: 1, protocol: 1, version: null });
  const artifacts = createArtifactSweeper({ store, blobs, logger, now: clock.now });
  const sweepables: Sweepable[] = [];
  const sweeper = createRetentionSweeper({
    store, logger, now: clock.now, batch: 3, sweepables,
    policy: { runsMs: 180 * DAY, logsMs: 90 * DAY, keepLast },
    sweepArtifacts: () => artifacts.sweep(),
  });
  /** A run on `branch` whose one job ran to `end` (or still runs), with a log and an artifact file. */
  const run = async (branch: string, end: 'success' | 'running', over: { environment?: string } = {}) => {
    const created = store.runs.createRun(newRun(repo.id, { branch, ref: `refs/heads/${branch}`, plan: plan(plannedJob('build', over)) }));
    const claim = store.leases.claimNextJob(agent.id, [], clock.now(), DAY)!;
    const job = claim.job;
    expect(job.runId).toBe(created.id);
    store.logs.appendLogLines({ jobId: job.id, attempt: 1, seq: 0, lines: textLines(`${'x'.repeat(2000)}\n`.repeat(20)) });
    const bytes = `artifact of run ${created.id}`;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const blob = await blobs.put(Readable.from([Buffer.from(bytes)]), { sha256, maxBytes: 1024, what: 'test', limitName: 'limit' });
    store.artifacts.recordArtifact({ jobId: job.id, runId: created.id, attempt: 1, name: 'dist', size: blob.size, sha256, expireMs: null });
    if (end === 'success') store.leases.completeJob(job.id, claim.token, { status: 'success', exitCode: 0 }, clock.now());
    return { runId: created.id, jobId: job.id, sha256 };
  };
  return { store, clock, file, blobs, sweeper, sweepables, run };
}

describe('the retention sweeper', () => {
  it('deletes old runs nothing keeps, with their logs, artifact rows and files; keeps the running, the newest per branch, the last deployment', async () => {
    const f = fixture(2);
    const running = await f.run('main', 'running');
    const deployed = await f.run('main', 'success', { environment: 'production' });
    const old = [await f.run('main', 'success'), await f.run('main', 'success'), await f.run('feature', 'success')];
    const newestMain = [await f.run('main', 'success'), await f.run('main', 'success')];
    const newestFeature = [await f.run('feature', 'success'), await f.run('feature', 'success')];
    f.clock.advance(181 * DAY);

    const result = await f.sweeper.sweep();
    expect(result).toMatchObject({ runs: 3, artifactFiles: 3, extra: {} });
    for (const gone of old) {
      expect(f.store.runs.getRun(gone.runId)).toBeNull();
      expect(f.store.jobs.getJob(gone.jobId)).toBeNull();
      expect(f.blobs.has(gone.sha256)).toBe(false);
    }
    for (const kept of [running, deployed, ...newestMain, ...newestFeature]) {
      expect(f.store.runs.getRun(kept.runId)).not.toBeNull();
      expect(f.blobs.has(kept.sha256)).toBe(true);
    }
    // The kept, finished runs are past `logs`: their log lines went, and that is remembered.
    expect(result.logs).toBe(5);
    expect(f.store.logs.countLogLines(deployed.jobId, 1)).toBe(0);
    expect(f.store.retention.removedLog(deployed.jobId)).toEqual({ removedAt: f.clock.now(), policy: 'logs: 90d' });
    expect(f.store.logs.countLogLines(running.jobId, 1)).toBe(20);
    expect(f.store.retention.removedLog(running.jobId)).toBeNull();
  });

  it('keeps runs younger than `runs` and logs younger than `logs`', async () => {
    const f = fixture(0);
    const young = await f.run('main', 'success');
    f.clock.advance(89 * DAY);
    expect(await f.sweeper.sweep()).toMatchObject({ runs: 0, logs: 0 });
    expect(f.store.logs.countLogLines(young.jobId, 1)).toBe(20);
    f.clock.advance(2 * DAY);
    expect(await f.sweeper.sweep()).toMatchObject({ runs: 0, logs: 1 });
    f.clock.advance(90 * DAY);
    expect(await f.sweeper.sweep()).toMatchObject({ runs: 1 });
    expect(f.store.runs.getRun(young.runId)).toBeNull();
  });

  it('hands the freed pages back: the file shrinks and no page stays free', async () => {
    const f = fixture(0);
    for (let i = 0; i < 12; i++) await f.run('main', 'success');
    const onDisk = () => statSync(f.file).size + statSync(`${f.file}-wal`).size;
    const before = onDisk();
    f.clock.advance(181 * DAY);
    expect(await f.sweeper.sweep()).toMatchObject({ runs: 12 });
    expect(onDisk()).toBeLessThan(before / 2);
    expect(statSync(`${f.file}-wal`).size).toBe(0);
  });

  it('asks each extra sweepable for its rows older than the audit age, batch after batch', async () => {
    const f = fixture();
    const asked: number[] = [];
    let left = 7;
    f.sweepables.push({ name: 'audit', sweepBefore: (cutoff, batch) => { asked.push(cutoff); const n = Math.min(batch, left); left -= n; return n; } });
    expect((await f.sweeper.sweep()).extra).toEqual({ audit: 7 });
    expect(asked).toEqual([f.clock.now() - 365 * DAY, f.clock.now() - 365 * DAY, f.clock.now() - 365 * DAY]);
  });
});
