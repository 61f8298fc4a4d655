// Secrets sealed at rest: real SQLite files, read back as bytes to find any value in clear.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../../server/secret-box.js';
import { MIGRATIONS, openDatabase, openSqlite } from '../../../server/store/index.js';
import { tempDir, trackStore } from './fixtures.js';
import { folderBytes } from '../../helpers/files.js';

const VALUE = 'hunter2-very-secret-value';

describe('secrets at rest', () => {
  it('are sealed in the file, and read back with the same key after a reopen', () => {
    const dir = tempDir();
    const file = join(dir, 'kiln.db');
    const key = randomBytes(32);
    const store = openDatabase(file);
    store.sealing.unlock(createSecretBox(key, 'k'));
    const repo = store.repos.addRepo({ name: 'web', path: '/srv/web' });
    store.secrets.setSecret(repo.id, 'TOKEN', VALUE);
    expect(folderBytes(dir).includes(VALUE)).toBe(false);
    store.close();
    expect(folderBytes(dir).includes(VALUE)).toBe(false);

    const again = trackStore(openDatabase(file));
    expect(again.sealing.hasSealedValues()).toBe(true);
    again.sealing.unlock(createSecretBox(key, 'k'));
    expect(again.secrets.getSecretValues(repo.id, ['TOKEN'])).toEqual({ TOKEN: VALUE });
  });

  it('refuse a different key once a value is sealed, and take a new one while none is', () => {
    const file = join(tempDir(), 'kiln.db');
    const store = trackStore(openDatabase(file));
    store.sealing.unlock(createSecretBox(randomBytes(32), 'first'));
    expect(store.sealing.hasSealedValues()).toBe(false);
    // Nothing sealed yet: a lost key file costs nothing, a new key is taken.
    const second = randomBytes(32);
    store.sealing.unlock(createSecretBox(second, 'second'));
    const repo = store.repos.addRepo({ name: 'web', path: '/srv/web' });
    store.secrets.setSecret(repo.id, 'TOKEN', VALUE);
    expect(() => store.sealing.unlock(createSecretBox(randomBytes(32), '/data/other.key')))
      .toThrow("secret key /data/other.key is not the key this data folder's values were sealed with");
    store.sealing.unlock(createSecretBox(second, 'second'));
    expect(store.secrets.getSecretValues(repo.id, ['TOKEN'])).toEqual({ TOKEN: VALUE });
  });

  it('are refused by a locked store, which has not been given the key', () => {
    const store = trackStore(openDatabase(join(tempDir(), 'kiln.db')));
    const repo = store.repos.addRepo({ name: 'web', path: '/srv/web' });
    expect(() => store.secrets.setSecret(repo.id, 'TOKEN', VALUE)).toThrow(/locked/);
    expect(store.secrets.getSecretValues(repo.id, ['TOKEN'])).toEqual({});
  });

  it('are bound to their row: a sealed value copied to another name or repo does not open', () => {
    const file = join(tempDir(), 'kiln.db');
    const store = trackStore(openDatabase(file));
    store.sealing.unlock(createSecretBox(randomBytes(32), 'k'));
    const repo = store.repos.addRepo({ name: 'web', path: '/srv/web' });
    store.secrets.setSecret(repo.id, 'TOKEN', VALUE);
    store.secrets.setSecret(repo.id, 'OTHER', 'x');
    const db = openSqlite(file);
    db.prepare("UPDATE secrets SET value = (SELECT value FROM secrets WHERE name = 'TOKEN') WHERE name = 'OTHER'").run();
    db.close();
    expect(() => store.secrets.getSecretValues(repo.id, ['OTHER'])).toThrow(/does not open/);
    expect(store.secrets.getSecretValues(repo.id, ['TOKEN'])).toEqual({ TOKEN: VALUE });
  });

  it('kept in clear by an older kiln are sealed at the first unlock, with no clear copy left in the folder', () => {
    const dir = tempDir();
    const file = join(dir, 'kiln.db');
    // A database as kiln left it before sealing (schema 3), with a secret in clear.
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    for (const sql of MIGRATIONS.slice(0, 3)) old.exec(sql);
    old.pragma('user_version = 3');
    old.prepare("INSERT INTO repos (name, path, default_branch, created_at) VALUES ('web', '/srv/web', 'main', 0)").run();
    old.prepare("INSERT INTO secrets (repo_id, name, value, updated_at) VALUES (1, 'TOKEN', ?, 0)").run(VALUE);
    old.close();
    expect(folderBytes(dir).includes(VALUE)).toBe(true);

    const key = randomBytes(32);
    const store = openDatabase(file);
    expect(store.sealing.hasSealedValues()).toBe(false); // a first start may make the key
    store.sealing.unlock(createSecretBox(key, 'k'));
    expect(store.sealing.hasSealedValues()).toBe(true);
    expect(store.secrets.getSecretValues(1, ['TOKEN'])).toEqual({ TOKEN: VALUE });
    expect(folderBytes(dir).includes(VALUE)).toBe(false);
    store.close();
    expect(folderBytes(dir).includes(VALUE)).toBe(false);
  });
});
