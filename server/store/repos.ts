// Repos: the git repositories the server knows, and each one's run counter.

import { badInput, conflict } from '../../shared/errors.js';
import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import type { Clock, Repo } from './types.js';

export interface NewRepo {
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
  };
}

export function createRepoStore(db: Sqlite, clock: Clock): RepoStore {
  const stmt = {
    insert: db.prepare<[string, string | null, string | null, string, number], RepoRow>(
      `INSERT INTO repos (name, path, url, default_branch, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO NOTHING RETURNING *`,
    ),
    byId: db.prepare<[number], RepoRow>('SELECT * FROM repos WHERE id = ?'),
    byName: db.prepare<[string], RepoRow>('SELECT * FROM repos WHERE name = ?'),
    all: db.prepare<[], RepoRow>('SELECT * FROM repos ORDER BY name'),
    setBranch: db.prepare<[string, number]>('UPDATE repos SET default_branch = ? WHERE id = ?'),
    remove: db.prepare<[number]>('DELETE FROM repos WHERE id = ?'),
  };

  return {
    addRepo({ name, path = null, url = null, defaultBranch = 'main' }) {
      if (!name) throw badInput('a repo needs a name');
      if ((path === null) === (url === null)) throw badInput(`repo ${name}: give either a path or a url`);
      const row = stmt.insert.get(name, path, url, defaultBranch, clock.now());
      if (!row) throw conflict(`repo ${name} already exists`);
      return toRepo(row);
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
