// Secrets at two levels: per repo, and at the server level for every repo (a repo's own
// secret of the same name replaces the server's). Each may be scoped to branches, events and
// environments. Values are sealed (sealing.ts) before they reach SQLite, and leave the store
// only through `resolveSecrets`, opened one by one for the jobs that may have them.

import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import { secretContext, serverSecretContext, type Sealing } from './sealing.js';
import type { Clock, RunEvent } from './types.js';

/** Where a secret may be used; null: anywhere (the key was absent). */
export interface SecretScopes {
  branches: string[] | null;      // globs, matched against the run's branch
  events: RunEvent[] | null;
  environments: string[] | null;  // globs, matched against the job's `environment:`
}

export const ANY_SCOPE: SecretScopes = { branches: null, events: null, environments: null };

/** A secret as it may be shown: never its value. */
export interface SecretInfo extends SecretScopes {
  name: string;
  level: 'repo' | 'server';
  updatedAt: string;
}

/** A secret a job names, found at its level, with its value still sealed until `open()`. */
export interface ResolvedSecret extends SecretInfo {
  open(): string;
}

export interface SecretStore {
  setSecret(repoId: number, name: string, value: string, scopes?: SecretScopes): SecretInfo;
  deleteSecret(repoId: number, name: string): boolean;
  listSecretNames(repoId: number): string[];
  listSecrets(repoId: number): SecretInfo[];
  getSecret(repoId: number, name: string): SecretInfo | null;
  /** The values of those of `names` that exist at the repo level, by name (scopes not applied). */
  getSecretValues(repoId: number, names: readonly string[]): Record<string, string>;
  setServerSecret(name: string, value: string, scopes?: SecretScopes): SecretInfo;
  deleteServerSecret(name: string): boolean;
  listServerSecrets(): SecretInfo[];
  /** Those of `names` that exist, in the order named: the repo's, else the server's. */
  resolveSecrets(repoId: number, names: readonly string[]): ResolvedSecret[];
}

interface Row { name: string; value: string; branches: string | null; events: string | null; environments: string | null; updated_at: number }

const json = (list: readonly string[] | null) => (list === null ? null : JSON.stringify(list));
const list = <T extends string>(text: string | null): T[] | null => (text === null ? null : JSON.parse(text) as T[]);

function toInfo(row: Row, level: SecretInfo['level']): SecretInfo {
  return {
    name: row.name, level, branches: list(row.branches), events: list<RunEvent>(row.events),
    environments: list(row.environments), updatedAt: isoAlways(row.updated_at),
  };
}

export function createSecretStore(db: Sqlite, clock: Clock, sealing: Sealing): SecretStore {
  type Scoped = [string | null, string | null, string | null];
  const stmt = {
    upsert: db.prepare<[number, string, string, ...Scoped, number]>(
      `INSERT INTO secrets (repo_id, name, value, sealed, branches, events, environments, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)
       ON CONFLICT (repo_id, name) DO UPDATE SET value = excluded.value, sealed = 1, branches = excluded.branches,
         events = excluded.events, environments = excluded.environments, updated_at = excluded.updated_at`,
    ),
    remove: db.prepare<[number, string]>('DELETE FROM secrets WHERE repo_id = ? AND name = ?'),
    names: db.prepare<[number], string>('SELECT name FROM secrets WHERE repo_id = ? ORDER BY name').pluck(),
    all: db.prepare<[number], Row>('SELECT name, value, branches, events, environments, updated_at FROM secrets WHERE repo_id = ? ORDER BY name'),
    one: db.prepare<[number, string], Row>('SELECT name, value, branches, events, environments, updated_at FROM secrets WHERE repo_id = ? AND name = ?'),
    named: db.prepare<[number, string], Row>(
      'SELECT name, value, branches, events, environments, updated_at FROM secrets WHERE repo_id = ? AND name IN (SELECT value FROM json_each(?))',
    ),
    serverUpsert: db.prepare<[string, string, ...Scoped, number]>(
      `INSERT INTO server_secrets (name, value, branches, events, environments, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, branches = excluded.branches, events = excluded.events,
         environments = excluded.environments, updated_at = excluded.updated_at`,
    ),
    serverRemove: db.prepare<[string]>('DELETE FROM server_secrets WHERE name = ?'),
    serverAll: db.prepare<[], Row>('SELECT name, value, branches, events, environments, updated_at FROM server_secrets ORDER BY name'),
    serverOne: db.prepare<[string], Row>('SELECT name, value, branches, events, environments, updated_at FROM server_secrets WHERE name = ?'),
    serverNamed: db.prepare<[string], Row>(
      'SELECT name, value, branches, events, environments, updated_at FROM server_secrets WHERE name IN (SELECT value FROM json_each(?))',
    ),
  };
  const scoped = (s: SecretScopes): Scoped => [json(s.branches), json(s.events), json(s.environments)];

  return {
    setSecret(repoId, name, value, scopes = ANY_SCOPE) {
      stmt.upsert.run(repoId, name, sealing.seal(value, secretContext(repoId, name)), ...scoped(scopes), clock.now());
      return toInfo(stmt.one.get(repoId, name)!, 'repo');
    },
    deleteSecret: (repoId, name) => stmt.remove.run(repoId, name).changes === 1,
    listSecretNames: (repoId) => stmt.names.all(repoId),
    listSecrets: (repoId) => stmt.all.all(repoId).map((row) => toInfo(row, 'repo')),
    getSecret: (repoId, name) => {
      const row = stmt.one.get(repoId, name);
      return row ? toInfo(row, 'repo') : null;
    },
    getSecretValues: (repoId, names) => {
      const rows = stmt.named.all(repoId, JSON.stringify(names));
      return Object.fromEntries(rows.map((s) => [s.name, sealing.open(s.value, secretContext(repoId, s.name))]));
    },
    setServerSecret(name, value, scopes = ANY_SCOPE) {
      stmt.serverUpsert.run(name, sealing.seal(value, serverSecretContext(name)), ...scoped(scopes), clock.now());
      return toInfo(stmt.serverOne.get(name)!, 'server');
    },
    deleteServerSecret: (name) => stmt.serverRemove.run(name).changes === 1,
    listServerSecrets: () => stmt.serverAll.all().map((row) => toInfo(row, 'server')),
    resolveSecrets(repoId, names) {
      if (names.length === 0) return [];
      const wanted = JSON.stringify(names);
      const repo = new Map(stmt.named.all(repoId, wanted).map((r) => [r.name, r]));
      const server = new Map(stmt.serverNamed.all(wanted).map((r) => [r.name, r]));
      return names.flatMap((name): ResolvedSecret[] => {
        const own = repo.get(name);
        if (own) return [{ ...toInfo(own, 'repo'), open: () => sealing.open(own.value, secretContext(repoId, name)) }];
        const shared = server.get(name);
        if (shared) return [{ ...toInfo(shared, 'server'), open: () => sealing.open(shared.value, serverSecretContext(name)) }];
        return [];
      });
    },
  };
}
