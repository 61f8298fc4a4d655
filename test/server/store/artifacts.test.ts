// The artifact store on real SQLite: one row per (job, name), lists in plan order, expiry, digests.
import { describe, expect, it } from 'vitest';
import { newRun, plan, plannedJob, tempStore, T0 } from './fixtures.js';

const digest = (c: string) => c.repeat(64);

function fixture() {
  const { store, clock } = tempStore();
  const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('build'), plannedJob('test')) }));
  const [build, test] = store.runs.getRun(run.id)!.jobs;
  const record = (jobId: number, name: string, sha: string, expireMs: number | null = null, attempt = 1) =>
    store.artifacts.recordArtifact({ jobId, runId: run.id, attempt, name, size: 3, sha256: sha, expireMs });
  return { store, clock, repo, run, build: build!, test: test!, record };
}

describe('the artifact store', () => {
  it('records an artifact with its job\'s name and ISO times', () => {
    const f = fixture();
    expect(f.record(f.build.id, 'dist', digest('a'), 1000)).toEqual({
      id: expect.any(Number), jobId: f.build.id, runId: f.run.id, job: 'build', attempt: 1, name: 'dist', size: 3,
      sha256: digest('a'), createdAt: new Date(T0).toISOString(), expiresAt: new Date(T0 + 1000).toISOString(),
    });
  });

  it('replaces the row of the same job and name (a new attempt\'s upload), keeping its id', () => {
    const f = fixture();
    const first = f.record(f.build.id, 'dist', digest('a'));
    f.clock.advance(5000);
    const second = f.record(f.build.id, 'dist', digest('b'), null, 2);
    expect(second).toMatchObject({ id: first.id, attempt: 2, sha256: digest('b'), createdAt: new Date(T0 + 5000).toISOString() });
    expect(f.store.artifacts.listJobArtifacts(f.build.id)).toEqual([second]);
    expect(f.store.artifacts.isDigestReferenced(digest('a'))).toBe(false);
    expect(f.store.artifacts.isDigestReferenced(digest('b'))).toBe(true);
  });

  it('lists by job, by run in plan order, and the needed jobs\' that have not expired', () => {
    const f = fixture();
    const report = f.record(f.test.id, 'report', digest('c'));
    const dist = f.record(f.build.id, 'dist', digest('a'));
    const docs = f.record(f.build.id, 'docs', digest('b'), 10);
    expect(f.store.artifacts.listRunArtifacts(f.run.id)).toEqual([dist, docs, report]);
    expect(f.store.artifacts.listJobArtifacts(f.test.id)).toEqual([report]);
    expect(f.store.artifacts.listNeededArtifacts(f.run.id, ['build'], T0)).toEqual([dist, docs]);
    expect(f.store.artifacts.listNeededArtifacts(f.run.id, ['build'], T0 + 10)).toEqual([dist]);
    expect(f.store.artifacts.listNeededArtifacts(f.run.id, [], T0)).toEqual([]);
    expect(f.store.artifacts.listNeededArtifacts(f.run.id + 1, ['build'], T0)).toEqual([]);
  });

  it('lists the expired (expires_at ≤ now, oldest first), deletes, and forgets with the run', () => {
    const f = fixture();
    const later = f.record(f.build.id, 'b', digest('b'), 20);
    const sooner = f.record(f.build.id, 'a', digest('a'), 10);
    f.record(f.test.id, 'kept', digest('c'));
    expect(f.store.artifacts.listExpiredArtifacts(T0 + 9)).toEqual([]);
    expect(f.store.artifacts.listExpiredArtifacts(T0 + 20)).toEqual([sooner, later]);
    expect(f.store.artifacts.listExpiredArtifacts(T0 + 20, 1)).toEqual([sooner]);
    expect(f.store.artifacts.deleteArtifact(sooner.id)).toBe(true);
    expect(f.store.artifacts.deleteArtifact(sooner.id)).toBe(false);
    expect(f.store.artifacts.getArtifact(sooner.id)).toBeNull();
    f.store.repos.removeRepo(f.repo.id);
    expect(f.store.artifacts.isDigestReferenced(digest('c'))).toBe(false);
  });
});
