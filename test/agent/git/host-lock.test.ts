import { spawnSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withHostLock } from '../../../agent/git/host-lock.js';
import { makeTempDir, removeTempDirs } from '../../helpers/git.js';

afterAll(removeTempDirs);

describe('the host lock', () => {
  it('runs tasks one after another, and removes the lock after each', async () => {
    const lock = join(await makeTempDir(), 'cache.git.lock');
    let inside = 0;
    let most = 0;
    const task = async () => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inside--;
    };
    await Promise.all([1, 2, 3].map(() => withHostLock(lock, task, { pollMs: 5 })));
    expect(most).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over at once a lock whose holder on this host is gone', async () => {
    const lock = join(await makeTempDir(), 'cache.git.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    await mkdir(lock);
    const ns = existsSync('/proc/self/ns/pid') ? `/${readlinkSync('/proc/self/ns/pid')}` : '';
    await writeFile(join(lock, 'owner'), `${dead}@${hostname()}${ns}`);
    expect(await withHostLock(lock, async () => 'mine', { pollMs: 5, waitMs: 2000 })).toBe('mine');
  });

  it('waits for a lock of another container or host until it is older than staleMs', async () => {
    const lock = join(await makeTempDir(), 'cache.git.lock');
    await mkdir(lock);
    await writeFile(join(lock, 'owner'), '7@another-host');
    await expect(withHostLock(lock, async () => 'never', { pollMs: 5, waitMs: 100 })).rejects.toThrow(/timed out waiting for the lock/);
    const later = Date.now() + 120_000;
    expect(await withHostLock(lock, async () => 'taken over', { pollMs: 5, staleMs: 60_000, now: () => later })).toBe('taken over');
  });
});
