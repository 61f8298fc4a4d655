// Repos: the git repositories the server knows, and each one's run counter.

import { badInput, conflict } from '../../shared/errors.js';
import type { NotifyRule } from '../../shared/pipeline/notify.js';
import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import type { Sealing } from './sealing.js';
import type { Clock, ForgeKind, RemoteSettings, Repo, RepoCredentials } from './types.js';

/** A remote repo's settings as given (API, kiln.yml); undefined: unchanged, null: cleared. */
export interface RepoSettingsInput {
  pollMs?: number | null;
  webhookSecret?: string | null;
  webhookInsecure?: boolean;
  credentials?: RepoCredentials | null;
  forge?: { kind: ForgeKind; apiUrl: string; token: string } | null;
  /** A new push run cancels the older open runs of its branch (not on the default branch). */
  cancelSuperseded?: boolean;
  /** The repo's own `notify:` rules (kiln.yml), added to each run's pipeline's. */
  notify?: NotifyRule[];
}

export interface NewRepo extends RepoSettingsInput {
  name: string;
  path?: string | null;
  url?: string | null;
  defaultBranch?: string;
}

/** Repos by id or name. Names are unique; removing a repo removes its runs, jobs, logs and secrets. */
export interface RepoStore {
  /** Throws `bad_input` unless exactly one of path/url is given, `conflict` if the name is taken. */
  addRepo(repo: NewRepo): Repo;
  getRepo(id: number): Repo | null;
  getRepoByName(name: string): Repo | null;
  listRepos(): Repo[];
  setDefaultBranch(id: number, branch: string): boolean;
  /** Changes the given settings (sealing the secret ones); the repo as it is now, or null. */
  updateSettings(id: number, settings: RepoSettingsInput): Repo | null;
  /** A remote's sync went well (error null) or failed with `error`. */
  recordSync(id: number, error: string | null): void;
  /** The sealed settings, opened: for fetching, webhooks and statuses only. */
  getRemoteSettings(id: number): RemoteSettings;
  removeRepo(id: number): boolean;
}

interface RepoRow {
  id: number;
  name: string;
  path: string | null;
  url: string | null;
  default_branch: string;
  last_run_number: number;
  created_at: number;
  poll_ms: number | null;
  webhook_secret: string | null;
  webhook_insecure: number;
  credentials_kind: 'token' | 'ssh_key' | null;
  credentials: string | null;
  forge_kind: ForgeKind | null;
  forge_api_url: string | null;
  forge_token: string | null;
  synced_at: number | null;
  sync_error: string | null;
  sync_error_at: number | null;
  cancel_superseded: number;
}

function toRepo(row: RepoRow): Repo {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    url: row.url,
    defaultBranch: row.default_branch,
    lastRunNumber: row.last_run_number,
    createdAt: isoAlways(row.created_at),
    pollMs: row.poll_ms,
    sealed: { webhookSecret: row.webhook_secret !== null, credentials: row.credentials_kind, forgeToken: row.forge_token !== null },
    webhookInsecure: row.webhook_insecure === 1,
    cancelSuperseded: row.cancel_superseded === 1,
    forge: row.forge_kind && row.forge_api_url ? { kind: row.forge_kind, apiUrl: row.forge_api_url } : null,
    sync: {
      syncedAt: row.synced_at === null ? null : isoAlways(row.synced_at),
      error: row.sync_error,
      errorAt: row.sync_error_at === null ? null : isoAlways(row.sync_error_at),
    },
  };
}

/** Each sealed column's context: a value copied to another repo or column does not open. */
const sealedIn = (id: number, column: string) => `repo:${id}:${column}`;

export function createRepoStore(db: Sqlite, clock: Clock, sealing: Sealing): RepoStore {
  const stmt = {
    insert: db.prepare<[string, string | null, string | null, string, number], RepoRow>(
      `INSERT INTO repos (name, path, url, default_branch, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO NOTHING RETURNING *`,
    ),
    byId: db.prepare<[number], RepoRow>('SELECT * FROM repos WHERE id = ?'),
    byName: db.prepare<[string], RepoRow>('SELECT * FROM repos WHERE name = ?'),
    all: db.prepare<[], RepoRow>('SELECT * FROM repos ORDER BY name'),
    setBranch: db.prepare<[string, number]>('UPDATE repos SET default_branch = ? WHERE id = ?'),
    synced: db.prepare<[number, number]>('UPDATE repos SET synced_at = ?, sync_error = NULL, sync_error_at = NULL WHERE id = ?'),
    syncFailed: db.prepare<[string, number, number]>('UPDATE repos SET sync_error = ?, sync_error_at = ? WHERE id = ?'),
    set: {
      poll_ms: db.prepare<[number | null, number]>('UPDATE repos SET poll_ms = ? WHERE id = ?'),
      webhook_secret: db.prepare<[string | null, number]>('UPDATE repos SET webhook_secret = ? WHERE id = ?'),
      webhook_insecure: db.prepare<[number, number]>('UPDATE repos SET webhook_insecure = ? WHERE id = ?'),
      cancel_superseded: db.prepare<[number, number]>('UPDATE repos SET cancel_superseded = ? WHERE id = ?'),
      notify: db.prepare<[string, number]>('UPDATE repos SET notify = ? WHERE id = ?'),
      credentials: db.prepare<[string | null, string | null, number]>('UPDATE repos SET credentials_kind = ?, credentials = ? WHERE id = ?'),
      forge: db.prepare<[string | null, string | null, string | null, number]>('UPDATE repos SET forge_kind = ?, forge_api_url = ?, forge_token = ? WHERE id = ?'),
    },
    remove: db.prepare<[number]>('DELETE FROM repos WHERE id = ?'),
  };

  const updateSettings = (id: number, settings: RepoSettingsInput): void => {
    const { pollMs, webhookSecret, webhookInsecure, credentials, forge, cancelSuperseded, notify } = settings;
    if (notify !== undefined) stmt.set.notify.run(JSON.stringify(notify), id);
    if (cancelSuperseded !== undefined) stmt.set.cancel_superseded.run(cancelSuperseded ? 1 : 0, id);
    if (pollMs !== undefined) stmt.set.poll_ms.run(pollMs, id);
    if (webhookSecret !== undefined) stmt.set.webhook_secret.run(webhookSecret === null ? null : sealing.seal(webhookSecret, sealedIn(id, 'webhook_secret')), id);
    if (webhookInsecure !== undefined) stmt.set.webhook_insecure.run(webhookInsecure ? 1 : 0, id);
    if (credentials !== undefined) {
      const secret = credentials === null ? null : JSON.stringify(credentials.kind === 'token' ? { token: credentials.token, username: credentials.username } : { ssh_key: credentials.sshKey });
      stmt.set.credentials.run(credentials?.kind ?? null, secret === null ? null : sealing.seal(secret, sealedIn(id, 'credentials')), id);
    }
    if (forge !== undefined) {
      stmt.set.forge.run(forge?.kind ?? null, forge?.apiUrl ?? null, forge === null ? null : sealing.seal(forge.token, sealedIn(id, 'forge_token')), id);
    }
  };

  return {
    addRepo({ name, path = null, url = null, defaultBranch = 'main', ...settings }) {
      if (!name) throw badInput('a repo needs a name');
      if ((path === null) === (url === null)) throw badInput(`repo ${name}: give either a path or a url`);
      return db.transaction(() => {
        const row = stmt.insert.get(name, path, url, defaultBranch, clock.now());
        if (!row) throw conflict(`repo ${name} already exists`);
        updateSettings(row.id, settings);
        return toRepo(stmt.byId.get(row.id)!);
      })();
    },
    updateSettings(id, settings) {
      return db.transaction(() => {
        if (!stmt.byId.get(id)) return null;
        updateSettings(id, settings);
        return toRepo(stmt.byId.get(id)!);
      })();
    },
    recordSync(id, error) {
      if (error === null) stmt.synced.run(clock.now(), id);
      else stmt.syncFailed.run(error.slice(0, 1000), clock.now(), id);
    },
    getRemoteSettings(id) {
      const row = stmt.byId.get(id);
      if (!row) return { webhookSecret: null, credentials: null, forge: null };
      const credentials = (): RepoCredentials | null => {
        if (row.credentials === null || row.credentials_kind === null) return null;
        const opened = JSON.parse(sealing.open(row.credentials, sealedIn(id, 'credentials'))) as { token?: string; username?: string | null; ssh_key?: string };
        return row.credentials_kind === 'token' ? { kind: 'token', token: opened.token!, username: opened.username ?? null } : { kind: 'ssh_key', sshKey: opened.ssh_key! };
      };
      return {
        webhookSecret: row.webhook_secret === null ? null : sealing.open(row.webhook_secret, sealedIn(id, 'webhook_secret')),
        credentials: credentials(),
        forge: row.forge_kind && row.forge_api_url && row.forge_token
          ? { kind: row.forge_kind, apiUrl: row.forge_api_url, token: sealing.open(row.forge_token, sealedIn(id, 'forge_token')) }
          : null,
      };
    },
    getRepo: (id) => mapOrNull(stmt.byId.get(id)),
    getRepoByName: (name) => mapOrNull(stmt.byName.get(name)),
    listRepos: () => stmt.all.all().map(toRepo),
    setDefaultBranch: (id, branch) => stmt.setBranch.run(branch, id).changes === 1,
    removeRepo: (id) => stmt.remove.run(id).changes === 1,
  };
}

function mapOrNull(row: RepoRow | undefined): Repo | null {
  return row ? toRepo(row) : null;
}
