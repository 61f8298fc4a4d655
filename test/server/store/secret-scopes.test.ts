// Server-level secrets and scopes in the store, on real SQLite files read back as bytes.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../../server/secret-box.js';
import { openDatabase, openSqlite } from '../../../server/store/index.js';
import { folderBytes } from '../../helpers/files.js';
import { fakeClock, tempDir, tempStore, trackStore } from './fixtures.js';

const VALUE = 'server-level-value-0123';

describe('server-level secrets', () => {
  it('are sealed in the file, count as sealed values, and open after a reopen with the same key', () => {
    const dir = tempDir();
    const file = join(dir, 'kiln.db');
    const key = randomBytes(32);
    const store = openDatabase(file);
    store.sealing.unlock(createSecretBox(key, 'k'));
    store.secrets.setServerSecret('NPM_TOKEN', VALUE);
    store.close();
    expect(folderBytes(dir).includes(VALUE)).toBe(false);

    const again = trackStore(openDatabase(file));
    expect(again.sealing.hasSealedValues()).toBe(true); // the key may not be made anew
    again.sealing.unlock(createSecretBox(key, 'k'));
    const repo = again.repos.addRepo({ name: 'web', path: '/srv/web' });
    expect(again.secrets.resolveSecrets(repo.id, ['NPM_TOKEN']).map((s) => [s.level, s.open()])).toEqual([['server', VALUE]]);
  });

  it('keep their scopes, list without values, and are replaced whole by a second write', () => {
    const { store, clock } = tempStore(fakeClock());
    const first = store.secrets.setServerSecret('DEPLOY_KEY', VALUE, { branches: ['main'], events: ['push', 'tag'], environments: ['prod*'] });
    expect(first).toEqual({ name: 'DEPLOY_KEY', level: 'server', branches: ['main'], events: ['push', 'tag'], environments: ['prod*'], updatedAt: new Date(clock.now()).toISOString() });
    clock.advance(1000);
    store.secrets.setServerSecret('DEPLOY_KEY', 'another-value');
    expect(store.secrets.listServerSecrets()).toEqual([{ name: 'DEPLOY_KEY', level: 'server', branches: null, events: null, environments: null, updatedAt: new Date(clock.now()).toISOString() }]);
    expect(JSON.stringify(store.secrets.listServerSecrets())).not.toContain('another-value');
    expect(store.secrets.deleteServerSecret('DEPLOY_KEY')).toBe(true);
    expect(store.secrets.deleteServerSecret('DEPLOY_KEY')).toBe(false);
    expect(store.secrets.listServerSecrets()).toEqual([]);
  });

  it("give way to the repo's secret of the same name, in the order the job names them; unknown names are left out", () => {
    const { store } = tempStore();
    const web = store.repos.addRepo({ name: 'web', path: '/srv/web' });
    const api = store.repos.addRepo({ name: 'api', path: '/srv/api' });
    store.secrets.setServerSecret('TOKEN', 'server-token-value');
    store.secrets.setServerSecret('SHARED', 'shared-value');
    store.secrets.setSecret(web.id, 'TOKEN', 'web-token-value', { branches: ['main'], events: null, environments: null });
    const resolved = store.secrets.resolveSecrets(web.id, ['SHARED', 'NOPE', 'TOKEN']);
    expect(resolved.map((s) => [s.name, s.level, s.branches, s.open()])).toEqual([
      ['SHARED', 'server', null, 'shared-value'],
      ['TOKEN', 'repo', ['main'], 'web-token-value'],
    ]);
    expect(store.secrets.resolveSecrets(api.id, ['TOKEN']).map((s) => [s.level, s.open()])).toEqual([['server', 'server-token-value']]);
    expect(store.secrets.getSecret(web.id, 'TOKEN')).toMatchObject({ name: 'TOKEN', level: 'repo', branches: ['main'] });
  });

  it('are bound to their name: a sealed value copied under another name does not open', () => {
    const file = join(tempDir(), 'kiln.db');
    const store = trackStore(openDatabase(file));
    store.sealing.unlock(createSecretBox(randomBytes(32), 'k'));
    const repo = store.repos.addRepo({ name: 'web', path: '/srv/web' });
    store.secrets.setServerSecret('TOKEN', VALUE);
    store.secrets.setServerSecret('OTHER', 'other-value');
    const db = openSqlite(file);
    db.prepare("UPDATE server_secrets SET value = (SELECT value FROM server_secrets WHERE name = 'TOKEN') WHERE name = 'OTHER'").run();
    db.close();
    expect(() => store.secrets.resolveSecrets(repo.id, ['OTHER'])[0]!.open()).toThrow(/does not open/);
  });
});
