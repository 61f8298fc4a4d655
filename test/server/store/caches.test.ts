// Cache entries on a real SQLite file: lookup order (exact, then each prefix's newest; own
// scope before the protected one), immutability, the size of distinct archives, LRU order.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../shared/errors.js';
import { T0, seeded } from './fixtures.js';

const SHA = (c: string) => c.repeat(64);

function setup() {
  const ctx = seeded();
  const other = ctx.store.repos.addRepo({ name: 'api', path: '/srv/git/api' });
  const add = (scope: string, key: string, sha = SHA('a'), size = 100, repoId = ctx.repo.id) =>
    ctx.store.caches.addCache({ repoId, scope, key, size, sha256: sha, jobId: null });
  return { ...ctx, other, add };
}

describe('the cache store', () => {
  it('finds the exact key first, in the own scope before the protected one', () => {
    const { store, repo, add, clock } = setup();
    const main = add('', 'npm-abc');
    clock.advance(1000);
    const own = add('branch:feature', 'npm-abc');
    expect(store.caches.findCache(repo.id, ['branch:feature', ''], 'npm-abc', ['npm-'])).toEqual({ entry: own, exact: true, prefix: null });
    expect(store.caches.findCache(repo.id, [''], 'npm-abc', [])).toEqual({ entry: main, exact: true, prefix: null });
    // Exact in the protected scope beats a prefix in the own scope.
    expect(store.caches.findCache(repo.id, ['branch:other', ''], 'npm-abc', ['npm-'])).toMatchObject({ entry: { id: main.id }, exact: true });
  });

  it('takes, per restore prefix in order, the newest entry whose key starts with it, own scope first', () => {
    const { store, repo, add, clock } = setup();
    add('', 'npm-old');
    clock.advance(1000);
    const newest = add('', 'npm-new');
    clock.advance(1000);
    add('', 'yarn-x');
    clock.advance(1000);
    const own = add('pr:4', 'npm-mine');
    expect(store.caches.findCache(repo.id, ['branch:feature', ''], 'npm-zzz', ['npm-'])).toEqual({ entry: newest, exact: false, prefix: 'npm-' });
    expect(store.caches.findCache(repo.id, ['pr:4', ''], 'npm-zzz', ['npm-'])).toEqual({ entry: own, exact: false, prefix: 'npm-' });
    // The first prefix that matches anywhere wins over a later one.
    expect(store.caches.findCache(repo.id, ['pr:4', ''], 'k', ['yarn-', 'npm-'])).toMatchObject({ entry: { key: 'yarn-x' }, prefix: 'yarn-' });
    // A prefix is compared byte for byte: no LIKE wildcards.
    expect(store.caches.findCache(repo.id, [''], 'k', ['npm_', 'np%'])).toBeNull();
  });

  it('misses other scopes and other repos', () => {
    const { store, repo, other, add } = setup();
    add('branch:feature', 'npm-abc');
    add('', 'npm-abc', SHA('b'), 10, other.id);
    expect(store.caches.findCache(repo.id, [''], 'npm-abc', ['npm-'])).toBeNull();
    expect(store.caches.findCache(repo.id, ['pr:1', ''], 'npm-abc', ['npm-', ''])).toBeNull();
  });

  it('refuses a second entry under the same (repo, scope, key) with a conflict naming the key', () => {
    const { store, repo, other, add } = setup();
    const first = add('', 'npm-abc');
    expect(() => add('', 'npm-abc', SHA('b'))).toThrow(expect.objectContaining({ code: 'conflict', message: expect.stringContaining('npm-abc') }) as unknown as KilnError);
    expect(store.caches.getCache(first.id)).toEqual(first);
    // Same key elsewhere is another entry.
    add('pr:1', 'npm-abc');
    add('', 'npm-abc', SHA('a'), 100, other.id);
    expect(store.caches.findCache(repo.id, [''], 'npm-abc', [])?.entry.sha256).toBe(SHA('a'));
  });

  it('counts each archive once however many entries share it, and lists entries by last use', () => {
    const { store, add, clock } = setup();
    expect(store.caches.totalCacheBytes()).toBe(0);
    const a = add('', 'a', SHA('a'), 100);
    clock.advance(1000);
    const b = add('pr:1', 'a', SHA('a'), 100);
    clock.advance(1000);
    const c = add('', 'c', SHA('c'), 50);
    expect(store.caches.totalCacheBytes()).toBe(150);
    clock.advance(1000);
    store.caches.touchCache(a.id);
    expect(store.caches.getCache(a.id)?.lastUsedAt).toBe(new Date(T0 + 3000).toISOString());
    expect(store.caches.leastRecentlyUsedCaches(10).map((e) => e.id)).toEqual([b.id, c.id, a.id]);
    expect(store.caches.deleteCache(b.id)).toBe(true);
    expect(store.caches.deleteCache(b.id)).toBe(false);
    expect(store.caches.isCacheBlobReferenced(SHA('a'))).toBe(true);
    store.caches.deleteCache(a.id);
    expect(store.caches.isCacheBlobReferenced(SHA('a'))).toBe(false);
    expect(store.caches.totalCacheBytes()).toBe(50);
  });
});
