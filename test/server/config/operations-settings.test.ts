// kiln.yml's operations settings: `server.retention` (the sweeper's policy) and
// `server.trusted_proxies` (whose X-Forwarded-For the audit log believes).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../../server/config.js';
import { useTempDirs } from '../../helpers/tmp.js';

const tempDir = useTempDirs();

async function load(yaml: string) {
  const dir = await tempDir();
  await writeFile(join(dir, 'kiln.yml'), yaml);
  return loadServerConfig({ env: {}, cwd: dir, cpus: 2 });
}

describe('server.retention', () => {
  it('defaults to runs 180d, logs 90d, keep_last 20, every hour, audit 365d', async () => {
    const config = await load('server: {}\n');
    expect(config.retention).toMatchObject({
      runsMs: 180 * 86_400_000, logsMs: 90 * 86_400_000, keepLast: 20, intervalMs: 3_600_000, auditMs: 365 * 86_400_000,
    });
    expect(config.trustedProxies).toEqual([]);
  });

  it('takes what kiln.yml sets', async () => {
    const config = await load('server:\n  retention: { runs: 30d, logs: 7d, keep_last: 3, interval: 10m, audit: 90d }\n');
    expect(config.retention).toMatchObject({ runsMs: 30 * 86_400_000, logsMs: 7 * 86_400_000, keepLast: 3, intervalMs: 600_000, auditMs: 90 * 86_400_000 });
  });

  it('refuses a sweep interval under a minute, and unknown keys, with the key named', async () => {
    await expect(load('server:\n  retention: { interval: 0s }\n')).rejects.toThrow(/server\.retention\.interval: expected at least 1m between sweeps/);
    await expect(load('server:\n  retention: { artifacts: 7d }\n')).rejects.toThrow(/server\.retention\.artifacts: unknown key "artifacts"/);
  });
});

describe('server.trusted_proxies', () => {
  it('takes IPv4 and IPv6 addresses and refuses anything else', async () => {
    expect((await load('server:\n  trusted_proxies: [127.0.0.1, "::1"]\n')).trustedProxies).toEqual(['127.0.0.1', '::1']);
    await expect(load('server:\n  trusted_proxies: [proxy.example]\n')).rejects.toThrow(/server\.trusted_proxies/);
  });
});
