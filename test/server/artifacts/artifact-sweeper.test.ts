// The sweeper on a real store and real files: expired rows go, then every file no row refers to.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createArtifactSweeper } from '../../../server/files/artifact-sweeper.js';
import { createBlobStore } from '../../../server/files/blob-store.js';
import { newRun, plan, plannedJob, tempDir, tempStore } from '../store/fixtures.js';
import { eventually } from '../../helpers/kiln.js';
import { http, sha256, startKiln, upload } from './fixture.js';

const HOUR = 3_600_000;

async function fixture() {
  const { store, clock } = tempStore();
  const blobs = createBlobStore(join(tempDir(), 'artifacts'));
  const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('build'), plannedJob('docs')) }));
  const [build, docs] = store.runs.getRun(run.id)!.jobs;
  const put = async (text: string) => blobs.put(Readable.from([Buffer.from(text)]), { sha256: sha256(text), maxBytes: 1024, what: 'test', limitName: 'limit' });
  const record = (jobId: number, name: string, blob: { sha256: string; size: number }, expireMs: number | null) =>
    store.artifacts.recordArtifact({ jobId, runId: run.id, attempt: 1, name, size: blob.size, sha256: blob.sha256, expireMs });
  const sweeper = createArtifactSweeper({ store, blobs, logger: pino({ level: 'silent' }), now: clock.now });
  return { store, clock, blobs, repo, build: build!, docs: docs!, put, record, sweeper };
}

describe('the artifact sweeper', () => {
  it('removes an expired artifact\'s row and file, but keeps a file another row still refers to', async () => {
    const f = await fixture();
    const shared = await f.put('shared bytes');
    const own = await f.put('own bytes');
    const expired = f.record(f.build.id, 'dist', shared, HOUR);
    const alsoExpired = f.record(f.build.id, 'report', own, HOUR);
    const kept = f.record(f.docs.id, 'site', shared, 48 * HOUR);
    const forever = f.record(f.docs.id, 'forever', own, null);
    f.store.artifacts.deleteArtifact(forever.id);

    expect(await f.sweeper.sweep()).toEqual({ rows: 0, files: 0 });
    f.clock.advance(HOUR);
    expect(await f.sweeper.sweep()).toEqual({ rows: 2, files: 1 });
    expect(f.store.artifacts.getArtifact(expired.id)).toBeNull();
    expect(f.store.artifacts.getArtifact(alsoExpired.id)).toBeNull();
    expect(f.store.artifacts.getArtifact(kept.id)).toEqual(kept);
    expect(f.blobs.has(shared.sha256)).toBe(true);
    expect(f.blobs.has(own.sha256)).toBe(false);
  });

  it('leaves the file of an upload that holds its digest (renamed into place, its row not yet recorded)', async () => {
    const f = await fixture();
    const uploading = 'e'.repeat(64);
    const release = f.blobs.hold(uploading);
    mkdirSync(join(f.blobs.dir, 'sha256', 'ee'), { recursive: true });
    writeFileSync(f.blobs.path(uploading), 'an upload between its rename and its row');
    expect(await f.sweeper.sweep()).toEqual({ rows: 0, files: 0 });
    expect(f.blobs.has(uploading)).toBe(true);
    release();
    expect(await f.sweeper.sweep()).toEqual({ rows: 0, files: 1 });
    expect(f.blobs.has(uploading)).toBe(false);
  });

  it('removes files whose rows went by a cascade delete, and files no row ever named', async () => {
    const f = await fixture();
    const blob = await f.put('bytes of a removed repo');
    f.record(f.build.id, 'dist', blob, null);
    const stray = 'f'.repeat(64);
    mkdirSync(join(f.blobs.dir, 'sha256', 'ff'), { recursive: true });
    writeFileSync(f.blobs.path(stray), 'no row');
    expect(await f.sweeper.sweep()).toEqual({ rows: 0, files: 1 });
    expect(f.blobs.has(blob.sha256)).toBe(true);
    f.store.repos.removeRepo(f.repo.id);
    expect(f.store.artifacts.isDigestReferenced(blob.sha256)).toBe(false);
    expect(await f.sweeper.sweep()).toEqual({ rows: 0, files: 1 });
    expect(f.blobs.digests()).toEqual([]);
  });

  it('sweeps when the server starts: an artifact that expired while it was down is gone', async () => {
    const first = await startKiln();
    const { jobId, token } = first.claim(first.run(plannedJob('build', { artifacts: { paths: ['dist'], expireMs: 1 } })).id, 'build');
    const { artifact } = (await upload(first.url, jobId, 'dist', Buffer.from('short-lived'), token)).json();
    const file = join(first.data, 'artifacts', 'sha256', artifact.sha256.slice(0, 2), artifact.sha256);
    expect(existsSync(file)).toBe(true);
    await first.stop();

    const again = await startKiln({}, first.data);
    await eventually(() => !existsSync(file), 5000, 'the expired file removed');
    expect(again.store.artifacts.getArtifact(artifact.id)).toBeNull();
    expect((await http(again.url, 'GET', `/api/artifacts/${artifact.id}`)).status).toBe(404);
  });
});
