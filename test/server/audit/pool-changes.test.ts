// Pool changes: kiln.yml's pools against the ones the last start recorded (pure), and on a real
// server process restarted over one data folder: each start that finds a pool added, changed
// or removed records `pool.change` by `kiln.yml` on `pool/NAME`, read back over GET /api/audit;
// a start with nothing changed records none.
import { afterAll, describe, expect, it } from 'vitest';
import { poolChanges, poolSettings } from '../../../server/autoscaler/pool-changes.js';
import type { PoolConfig } from '../../../server/config.js';
import { removeTempDirs } from '../../helpers/git.js';
import { killAll, startServer } from '../../helpers/kiln.js';

afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const pool = (over: Partial<PoolConfig> = {}): PoolConfig => ({
  name: 'ci', provider: 'docker', labels: ['linux'], min: 0, max: 2, capacity: 1, idleTimeoutMs: 30_000, schedule: [],
  docker: { host: null, image: 'kiln-agent:latest', network: 'host', env: { API_KEY: 'secret-value' } }, ...over,
});
const recorded = (p: PoolConfig) => ({ pool: p.name, settings: JSON.stringify(poolSettings(p)), changedAt: 0 });

describe('poolChanges', () => {
  it('names what was added, what changed from what to what, and what was removed; nothing for an unchanged pool', () => {
    expect(poolChanges([pool()], [])).toEqual([{ pool: 'ci', settings: expect.any(String), detail: 'added (docker, min 0, max 2)' }]);
    expect(poolChanges([pool()], [recorded(pool())])).toEqual([]);
    expect(poolChanges([pool({ max: 4, labels: ['linux', 'gpu'] })], [recorded(pool())]).map((c) => c.detail))
      .toEqual(['labels ["linux"] → ["linux","gpu"]; max 2 → 4']);
    expect(poolChanges([], [recorded(pool())])).toEqual([{ pool: 'ci', settings: null, detail: 'removed' }]);
  });

  it('records a Docker environment by its names only: a changed value is no change, and never written', () => {
    const changed = pool({ docker: { ...pool().docker!, env: { API_KEY: 'another-secret' } } });
    expect(poolChanges([changed], [recorded(pool())])).toEqual([]);
    expect(JSON.stringify(poolChanges([pool()], []))).not.toContain('secret-value');
  });
});

// A process pool with min 0 that nothing asks for: it never starts an agent here.
const kilnYml = (pools: string) => `repos: []\npools:\n${pools}\nserver:\n  lease_timeout: 5s\n`;
const ci = (max: number) => `  - { name: ci, provider: process, labels: [never-used], min: 0, max: ${max} }`;

describe('pool changes on a real server', () => {
  it('are recorded at each start that finds kiln.yml\'s pools changed', async () => {
    const first = await startServer({ config: kilnYml(ci(2)) });
    await first.kill('SIGTERM');
    const second = await startServer({ dataDir: first.dataDir, config: kilnYml(ci(4)) });
    await second.kill('SIGTERM');
    const third = await startServer({ dataDir: first.dataDir, config: kilnYml(ci(4)) });
    await third.kill('SIGTERM');
    const fourth = await startServer({ dataDir: first.dataDir, config: 'repos: []\npools: []\n' });
    const log = await fourth.api('GET', '/api/audit?action=pool.change');
    expect(log.body.entries.map((e: Record<string, unknown>) => [e.actor, e.target, e.outcome, e.detail])).toEqual([
      ['kiln.yml', 'pool/ci', 'ok', 'removed'],
      ['kiln.yml', 'pool/ci', 'ok', 'max 2 → 4'],
      ['kiln.yml', 'pool/ci', 'ok', 'added (process, min 0, max 2)'],
    ]);
  });
});
