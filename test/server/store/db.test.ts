import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openDatabase, openSqlite } from '../../../server/store/index.js';
import { createStore } from '../../../server/store/store.js';
import { newRun, seeded, tempDir, trackStore } from './fixtures.js';

describe('opening the database', () => {
  it('applies every migration once and records the version in user_version', () => {
    const db = openSqlite(join(tempDir(), 'kiln.db'));
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(migrate(db)).toBe(MIGRATIONS.length);
    db.close();
  });

  it('reopens an existing file without migrating again and keeps its data', () => {
    const file = join(tempDir(), 'kiln.db');
    const first = openDatabase(file);
    first.repos.addRepo({ name: 'web', path: '/srv/git/web' });
    first.close();
    const second = trackStore(openDatabase(file));
    expect(second.repos.listRepos().map((r) => r.name)).toEqual(['web']);
  });

  it('sets WAL, foreign keys, a busy timeout and synchronous NORMAL', () => {
    const db = openSqlite(join(tempDir(), 'kiln.db'), { busyTimeoutMs: 1234 });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    db.close();
  });

  it('refuses a database made by a newer kiln', () => {
    const file = join(tempDir(), 'kiln.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openSqlite(file)).toThrow(/newer/);
  });

  it('works in memory, and answers ping until closed', () => {
    const store = openDatabase(':memory:');
    store.repos.addRepo({ name: 'api', url: 'https://git.example.com/api.git' });
    expect(store.repos.getRepoByName('api')?.url).toBe('https://git.example.com/api.git');
    expect(store.ping()).toBe(true);
    store.close();
    expect(store.ping()).toBe(false);
  });
});

describe('a unit of work (store.transaction)', () => {
  it('commits the calls it makes together, nested transactions and all', () => {
    const { store, file, repo, agents } = seeded();
    const { run, claim } = store.transaction(() => {
      const run = store.runs.addRun(newRun(repo.id));
      return { run, claim: store.leases.claimJob(store.jobs.listJobs(run.id)[0]!.id, agents[0]!.id, Date.now(), 30_000) };
    });
    expect(claim?.job.status).toBe('running');
    const other = trackStore(openDatabase(file)); // another connection sees it all
    expect(other.runs.getRun(run.id)).toMatchObject({ status: 'running', jobs: [{ status: 'running', agent: 'agent-1' }] });
  });

  it('changes nothing when the work throws, and the error reaches the caller', () => {
    const { store, repo } = seeded();
    expect(() => store.transaction(() => {
      store.runs.addRun(newRun(repo.id));
      throw new Error('boom');
    })).toThrow('boom');
    expect(store.runs.listRuns(repo.id)).toEqual([]);
    expect(store.runs.addRun(newRun(repo.id)).number).toBe(1); // the counter did not move either
  });
});

describe('one commit per turn (store.commitPerTurn)', () => {
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('commits the transactions of one turn together at its end, and not before', async () => {
    const { store, file, repo } = seeded();
    store.commitPerTurn(() => expect.fail('no commit fails here'));
    const other = trackStore(openDatabase(file));
    const first = store.transaction(() => store.runs.addRun(newRun(repo.id)));
    const second = store.transaction(() => store.runs.addRun(newRun(repo.id)));
    expect(store.runs.listRuns(repo.id)).toHaveLength(2); // this connection sees its own writes
    expect(other.runs.listRuns(repo.id)).toEqual([]); // nobody else does, yet
    const order: string[] = [];
    store.afterCommit(() => order.push('afterCommit'));
    const committed = store.committed().then(() => order.push('committed'));
    expect(order).toEqual([]);
    await committed;
    expect(order).toEqual(['afterCommit', 'committed']);
    expect(other.runs.listRuns(repo.id).map((r) => r.id).sort()).toEqual([first.id, second.id].sort());
  });

  it('undoes a transaction that throws, and only that one', async () => {
    const { store, file, repo } = seeded();
    store.commitPerTurn(() => expect.fail('no commit fails here'));
    const kept = store.transaction(() => store.runs.addRun(newRun(repo.id)));
    expect(() => store.transaction(() => {
      store.runs.addRun(newRun(repo.id));
      throw new Error('boom');
    })).toThrow('boom');
    await store.committed();
    const other = trackStore(openDatabase(file));
    expect(other.runs.listRuns(repo.id).map((r) => r.id)).toEqual([kept.id]);
  });

  it('runs afterCommit at once and resolves committed when nothing waits for a commit', async () => {
    const { store } = seeded();
    store.commitPerTurn(() => expect.fail('no commit fails here'));
    let ran = false;
    store.afterCommit(() => (ran = true));
    expect(ran).toBe(true);
    await store.committed();
    await nextTurn();
  });

  it('commits what is pending when the store closes', () => {
    const file = join(tempDir(), 'kiln.db');
    const store = openDatabase(file);
    store.commitPerTurn(() => expect.fail('no commit fails here'));
    store.transaction(() => store.repos.addRepo({ name: 'web', path: '/srv/git/web' }));
    store.close();
    expect(trackStore(openDatabase(file)).repos.listRepos().map((r) => r.name)).toEqual(['web']);
  });

  it('tells onFailure when a commit fails, and keeps none of the turn', async () => {
    const file = join(tempDir(), 'kiln.db');
    const db = openSqlite(file);
    const store = trackStore(createStore(db));
    const failures: unknown[] = [];
    store.commitPerTurn((error) => failures.push(error));
    const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
    store.transaction(() => store.runs.addRun(newRun(repo.id)));
    // A write whose foreign key is checked only at COMMIT (deferred): that commit fails.
    db.pragma('defer_foreign_keys = ON');
    store.transaction(() => db.prepare(`INSERT INTO steps (job_id, idx, name, status) VALUES (424242, 0, 'x', 'queued')`).run());
    let ran = false;
    store.afterCommit(() => (ran = true));
    await expect(store.committed()).rejects.toThrow(/FOREIGN KEY/);
    expect(failures).toHaveLength(1);
    expect(ran).toBe(false);
    expect(trackStore(openDatabase(file)).runs.listRuns(repo.id)).toEqual([]);
  });
});
