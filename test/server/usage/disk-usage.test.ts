// Disk use from a constructed history on real files: the figures are exact byte counts.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskUsage } from '../../../server/retention/usage.js';
import { newRun, tempDir, tempStore, textLines } from '../store/fixtures.js';

describe('disk usage', () => {
  it('counts log, artifact and cache bytes per repo from their rows, and files on disk by kind', () => {
    const { store, file } = tempStore();
    const dir = tempDir();
    const web = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
    const api = store.repos.addRepo({ name: 'api', path: '/srv/git/api' });
    const run = store.runs.createRun(newRun(web.id));
    const job = store.runs.getRun(run.id)!.jobs[0]!;
    store.logs.appendLogLines({ jobId: job.id, attempt: 1, seq: 0, lines: textLines('hello\nworld\n') });
    store.artifacts.recordArtifact({ jobId: job.id, runId: run.id, attempt: 1, name: 'dist', size: 300, sha256: 'a'.repeat(64), expireMs: null });
    const artifactsDir = join(dir, 'artifacts');
    mkdirSync(join(artifactsDir, 'sha256', 'aa'), { recursive: true });
    writeFileSync(join(artifactsDir, 'sha256', 'aa', 'a'.repeat(64)), Buffer.alloc(300));
    const mirrors = join(dir, 'mirrors');
    mkdirSync(join(mirrors, 'api.git', 'objects'), { recursive: true });
    writeFileSync(join(mirrors, 'api.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(mirrors, 'api.git', 'objects', 'pack'), Buffer.alloc(1000));

    const usage = diskUsage({ store, databaseFile: file, artifactsDir, cachesDir: join(dir, 'caches'), mirrorDir: (r) => join(mirrors, `${r.name}.git`) });
    const logBytes = store.logs.logBytes(job.id, 1);
    expect(logBytes).toBeGreaterThan(0);
    expect(usage.byRepo).toEqual([
      { repo: 'api', logs: 0, artifacts: 0, caches: 0, mirror: 1021 },
      { repo: 'web', logs: logBytes, artifacts: 300, caches: 0, mirror: 0 },
    ]);
    const dbBytes = ['', '-wal', '-shm'].reduce((sum, tail) => { try { return sum + statSync(file + tail).size; } catch { return sum; } }, 0);
    expect(usage.byKind).toEqual({ database: dbBytes, logs: logBytes, artifacts: 300, caches: 0, mirrors: 1021 });
  });
});
