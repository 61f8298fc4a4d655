// The agent's local copies of cache archives: found by digest, touched on use, bounded least recently used first.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalCache } from '../../../agent/files/local-cache.js';
import { openWorkDir } from '../../../agent/jobs/work-dir.js';
import { useTempDirs } from '../../helpers/tmp.js';

const tempDir = useTempDirs('kiln-local-cache-');
const digest = (c: string) => c.repeat(64);

async function archive(dir: string, bytes: number): Promise<string> {
  const file = join(dir, `t-${Math.random()}.tgz`);
  await writeFile(file, Buffer.alloc(bytes));
  return file;
}

describe('local cache copies', () => {
  it('keeps an archive under its digest and finds it again; an unknown digest is null', async () => {
    const dir = await tempDir();
    const cache = createLocalCache({ dir, maxBytes: 1000 });
    await cache.keep(await archive(dir, 10), digest('a'));
    expect(await cache.find(digest('a'))).toBe(join(dir, `${digest('a')}.tgz`));
    expect(await cache.find(digest('b'))).toBeNull();
    await cache.forget(digest('a'));
    expect(await cache.find(digest('a'))).toBeNull();
  });

  it('removes the least recently used copies past maxBytes; a copy found is used again', async () => {
    const dir = await tempDir();
    let clock = 1_700_000_000_000;
    const cache = createLocalCache({ dir, maxBytes: 250, now: () => (clock += 1000) });
    await cache.keep(await archive(dir, 100), digest('a'));
    await cache.keep(await archive(dir, 100), digest('b'));
    await cache.find(digest('a'));
    await cache.keep(await archive(dir, 100), digest('c'));
    expect((await readdir(dir)).filter((n) => n.endsWith('.tgz') && !n.startsWith('t-')).sort()).toEqual([`${digest('a')}.tgz`, `${digest('c')}.tgz`]);
  });

  it('keeps nothing larger than maxBytes, and nothing at all with 0', async () => {
    const dir = await tempDir();
    const small = createLocalCache({ dir, maxBytes: 50 });
    await small.keep(await archive(dir, 100), digest('a'));
    expect(await readdir(dir)).toEqual([]);
    const none = createLocalCache({ dir, maxBytes: 0 });
    await none.keep(await archive(dir, 10), digest('b'));
    expect(await none.find(digest('b'))).toBeNull();
  });

  it('refuses a name that is not a digest', async () => {
    const cache = createLocalCache({ dir: await tempDir(), maxBytes: 100 });
    await expect(cache.find('../../etc/passwd')).rejects.toThrow('not a sha256 digest: ../../etc/passwd');
  });

  it('lives in <work-dir>/cache-blobs; half-written transfers are removed when the agent starts', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'transfers'), { recursive: true });
    await writeFile(join(root, 'transfers', '7-left.tgz'), 'partial');
    const dirs = await openWorkDir(root);
    expect(dirs.cacheBlobs).toBe(join(root, 'cache-blobs'));
    expect(await readdir(dirs.transfers)).toEqual([]);
    await dirs.release();
  });
});
