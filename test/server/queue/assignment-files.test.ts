// assignment.files: the job's transfer token, the limits, and the artifacts of the jobs it needs
// (minus `artifacts: false`), of its own run, looked up only when it needs some.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createTransferTokens } from '../../../server/files/transfer-token.js';
import { plannedJob } from '../store/fixtures.js';
import { queueFixture } from './queue-fixture.js';

const transfer = createTransferTokens(randomBytes(32));
const files = { issueFilesToken: transfer.issue, artifactMaxBytes: 1024, cacheMaxBytes: 2048 };

describe('assignment.files', () => {
  it('carries the transfer token of the lease, the limits, and the needed jobs\' artifacts of the same run', () => {
    const fx = queueFixture({ files });
    const { link } = fx.agent('a1', { capacity: 4 });
    const jobs = [plannedJob('build'), plannedJob('docs'), plannedJob('lint'),
      plannedJob('test', { needs: ['build', 'docs', 'lint'], noArtifactsFrom: ['docs'] })];
    const run = fx.run(...jobs);
    const other = fx.run(plannedJob('build'));
    const first = link.jobs().filter((a) => a.runId === run.id);
    expect(first.map((a) => a.job.name)).toEqual(['build', 'docs', 'lint']);
    for (const a of first) {
      expect(a.files).toEqual({ token: transfer.issue(a.jobId, a.token), artifactMaxBytes: 1024, cacheMaxBytes: 2048, artifacts: [] });
      expect(transfer.jobOf(a.files!.token, () => a.token)).toBe(a.jobId);
    }
    const [build, docs] = first;
    const record = (jobId: number, runId: number, name: string, expireMs: number | null = null) =>
      fx.store.artifacts.recordArtifact({ jobId, runId, attempt: 1, name, size: 10, sha256: createHash('sha256').update(`${runId} ${name}`).digest('hex'), expireMs });
    const dist = record(build!.jobId, run.id, 'dist');
    record(build!.jobId, run.id, 'gone', 0);
    record(docs!.jobId, run.id, 'site');
    const otherBuild = link.jobs().find((a) => a.runId === other.id)!;
    record(otherBuild.jobId, other.id, 'dist');
    for (const a of first) fx.done(link, a);

    const test = link.jobs().find((a) => a.job.name === 'test')!;
    expect(test.files!.token).toBe(transfer.issue(test.jobId, test.token));
    expect(test.files!.artifacts).toEqual([{ id: dist.id, job: 'build', name: 'dist', size: 10, sha256: dist.sha256 }]);
  });

  it('asks the store nothing for a job that needs none, and fills no files without the option', () => {
    const fx = queueFixture({ files });
    const lookup = vi.spyOn(fx.store.artifacts, 'listNeededArtifacts');
    const { link } = fx.agent('a1');
    fx.run(plannedJob('build'));
    expect(link.jobs()[0]!.files!.artifacts).toEqual([]);
    expect(lookup).not.toHaveBeenCalled();

    const plain = queueFixture();
    const agent = plain.agent('a1');
    plain.run(plannedJob('build'));
    expect(agent.link.jobs()[0]!.files).toBeUndefined();
  });
});
