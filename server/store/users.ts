// Users, their roles per repo, their API tokens and their dashboard sessions. Passwords arrive
// hashed (server/access/passwords.ts: scrypt is slow on purpose, and async); tokens and session
// ids arrive in clear and only their SHA-256 is kept, as for the admin and agent tokens.
import { timingSafeEqual } from 'node:crypto';
import { conflict, notFound } from '../../shared/errors.js';
import type { Sqlite } from './db.js';
import { iso, isoAlways } from './rows.js';
import { hashToken } from './tokens.js';
import type { Clock } from './types.js';

export const ROLES = ['viewer', 'developer', 'maintainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const TOKEN_SCOPES = ['read', 'run', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
/** The repo name a role that holds on every repo is kept under. */
export const ALL_REPOS = '*';

export interface User {
  id: number;
  name: string;
  email: string | null;
  /** A server admin: every role on every repo, and the server's own settings. */
  admin: boolean;
  /** Groups (from the identity provider, or set by an admin): approvers may name them. */
  groups: string[];
  source: 'local' | 'oidc';
  disabled: boolean;
  hasPassword: boolean;
  /** Role per repo name; `*` holds on every repo. */
  roles: Record<string, Role>;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface UserToken {
  id: number;
  userId: number;
  user: string;
  name: string;
  scope: TokenScope;
  /** Null: every repo the user may reach. */
  repos: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface NewUser {
  name: string;
  email?: string | null;
  passwordHash?: string | null;
  admin?: boolean;
  groups?: string[];
  source?: 'local' | 'oidc';
  subject?: string | null;
}

export interface UserChanges {
  email?: string | null;
  passwordHash?: string | null;
  admin?: boolean;
  groups?: string[];
  disabled?: boolean;
}

export interface StoredSession {
  userId: number | null;
  kind: 'admin' | 'user';
  csrf: string;
  expiresAtMs: number;
}

export interface UserStore {
  addUser(user: NewUser): User;
  getUser(id: number): User | null;
  getUserByName(name: string): User | null;
  getUserBySubject(source: 'oidc', subject: string): User | null;
  listUsers(): User[];
  updateUser(id: number, changes: UserChanges): User;
  removeUser(id: number): boolean;
  passwordHashOf(id: number): string | null;
  /** Sets (or, with null, removes) the user's role on a repo (`*`: every repo). */
  setRole(userId: number, repo: string, role: Role | null): User;
  /** Replaces all the user's roles (an SSO login maps them afresh from the groups). */
  replaceRoles(userId: number, roles: Record<string, Role>): void;
  touchLogin(id: number): void;
  countAdmins(): number;

  /** A new token; `secret` is shown to its owner once and only its hash is kept. */
  addToken(token: { userId: number; name: string; secret: string; scope: TokenScope; repos: string[] | null; expiresAtMs: number | null }): UserToken;
  /** The token and its user, when the secret is a live token of an enabled user; marks it used. */
  verifyToken(secret: string): { token: UserToken; user: User } | null;
  listTokens(userId?: number): UserToken[];
  getToken(id: number): UserToken | null;
  revokeToken(id: number): boolean;

  createSession(session: StoredSession & { id: string }): void;
  getSession(id: string): StoredSession | null;
  removeSession(id: string): void;
  removeSessionsOf(userId: number): void;
}

interface UserRow {
  id: number; name: string; email: string | null; password: string | null; admin: number; groups: string; source: 'local' | 'oidc';
  subject: string | null; disabled: number; created_at: number; last_login_at: number | null;
}
interface TokenRow {
  id: number; user_id: number; user: string; name: string; scope: TokenScope; repos: string | null; created_at: number;
  expires_at: number | null; last_used_at: number | null;
}
interface SessionRow { user_id: number | null; kind: 'admin' | 'user'; csrf: string; expires_at: number }

const sha256 = hashToken;
/** Marking a token used costs a write: once a minute is precise enough for "last used". */
const USED_EVERY_MS = 60_000;

export function createUserStore(db: Sqlite, clock: Clock): UserStore {
  const stmt = {
    insert: db.prepare<[string, string | null, string | null, number, string, string, string | null, number], { id: number }>(
      `INSERT INTO users (name, email, password, admin, groups, source, subject, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ),
    byId: db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?'),
    byName: db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?'),
    bySubject: db.prepare<[string, string], UserRow>('SELECT * FROM users WHERE source = ? AND subject = ?'),
    all: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY name'),
    roles: db.prepare<[number], { repo: string; role: Role }>('SELECT repo, role FROM user_roles WHERE user_id = ? ORDER BY repo'),
    setRole: db.prepare<[number, string, Role]>('INSERT INTO user_roles (user_id, repo, role) VALUES (?, ?, ?) ON CONFLICT (user_id, repo) DO UPDATE SET role = excluded.role'),
    dropRole: db.prepare<[number, string]>('DELETE FROM user_roles WHERE user_id = ? AND repo = ?'),
    dropRoles: db.prepare<[number]>('DELETE FROM user_roles WHERE user_id = ?'),
    update: db.prepare<[string | null, string | null, number, string, number, number]>(
      'UPDATE users SET email = ?, password = ?, admin = ?, groups = ?, disabled = ? WHERE id = ?',
    ),
    remove: db.prepare<[number]>('DELETE FROM users WHERE id = ?'),
    login: db.prepare<[number, number]>('UPDATE users SET last_login_at = ? WHERE id = ?'),
    admins: db.prepare<[], number>('SELECT count(*) FROM users WHERE admin = 1 AND disabled = 0').pluck(),
    addToken: db.prepare<[number, string, string, TokenScope, string | null, number, number | null], { id: number }>(
      'INSERT INTO user_tokens (user_id, name, hash, scope, repos, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
    ),
    tokenByHash: db.prepare<[string], TokenRow & { hash: string }>(
      'SELECT t.*, u.name AS user FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?',
    ),
    tokenById: db.prepare<[number], TokenRow>('SELECT t.*, u.name AS user FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?'),
    tokensOf: db.prepare<[number], TokenRow>('SELECT t.*, u.name AS user FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = ? ORDER BY t.id'),
    allTokens: db.prepare<[], TokenRow>('SELECT t.*, u.name AS user FROM user_tokens t JOIN users u ON u.id = t.user_id ORDER BY u.name, t.id'),
    used: db.prepare<[number, number]>('UPDATE user_tokens SET last_used_at = ? WHERE id = ?'),
    revoke: db.prepare<[number]>('DELETE FROM user_tokens WHERE id = ?'),
    addSession: db.prepare<[string, number | null, string, string, number, number]>(
      'INSERT INTO sessions (hash, user_id, kind, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    session: db.prepare<[string], SessionRow>('SELECT user_id, kind, csrf, expires_at FROM sessions WHERE hash = ?'),
    dropSession: db.prepare<[string]>('DELETE FROM sessions WHERE hash = ?'),
    dropSessionsOf: db.prepare<[number]>('DELETE FROM sessions WHERE user_id = ?'),
    expired: db.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?'),
  };

  const toUser = (r: UserRow): User => ({
    id: r.id, name: r.name, email: r.email, admin: r.admin === 1, groups: JSON.parse(r.groups) as string[], source: r.source,
    disabled: r.disabled === 1, hasPassword: r.password !== null,
    roles: Object.fromEntries(stmt.roles.all(r.id).map((x) => [x.repo, x.role])),
    createdAt: isoAlways(r.created_at), lastLoginAt: iso(r.last_login_at),
  });
  const toToken = (r: TokenRow): UserToken => ({
    id: r.id, userId: r.user_id, user: r.user, name: r.name, scope: r.scope, repos: r.repos === null ? null : (JSON.parse(r.repos) as string[]),
    createdAt: isoAlways(r.created_at), expiresAt: iso(r.expires_at), lastUsedAt: iso(r.last_used_at),
  });
  const must = (id: number): UserRow => {
    const row = stmt.byId.get(id);
    if (!row) throw notFound(`no user ${id}`);
    return row;
  };
  const unique = <T>(work: () => T, what: string): T => {
    try {
      return work();
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw conflict(`${what} already exists`);
      throw error;
    }
  };

  return {
    addUser: (u) => {
      const { id } = unique(() => stmt.insert.get(u.name, u.email ?? null, u.passwordHash ?? null, u.admin ? 1 : 0, JSON.stringify(u.groups ?? []),
        u.source ?? 'local', u.subject ?? null, clock.now())!, `a user named ${u.name}`);
      return toUser(must(id));
    },
    getUser: (id) => {
      const row = stmt.byId.get(id);
      return row ? toUser(row) : null;
    },
    getUserByName: (name) => {
      const row = stmt.byName.get(name);
      return row ? toUser(row) : null;
    },
    getUserBySubject: (source, subject) => {
      const row = stmt.bySubject.get(source, subject);
      return row ? toUser(row) : null;
    },
    listUsers: () => stmt.all.all().map(toUser),
    updateUser: (id, changes) => {
      const row = must(id);
      stmt.update.run(
        changes.email !== undefined ? changes.email : row.email,
        changes.passwordHash !== undefined ? changes.passwordHash : row.password,
        changes.admin !== undefined ? (changes.admin ? 1 : 0) : row.admin,
        changes.groups !== undefined ? JSON.stringify(changes.groups) : row.groups,
        changes.disabled !== undefined ? (changes.disabled ? 1 : 0) : row.disabled,
        id,
      );
      // A new password or a disabled account ends the user's sessions.
      if (changes.passwordHash !== undefined || changes.disabled === true) stmt.dropSessionsOf.run(id);
      return toUser(must(id));
    },
    removeUser: (id) => stmt.remove.run(id).changes === 1,
    passwordHashOf: (id) => stmt.byId.get(id)?.password ?? null,
    setRole: (userId, repo, role) => {
      must(userId);
      if (role === null) stmt.dropRole.run(userId, repo);
      else stmt.setRole.run(userId, repo, role);
      return toUser(must(userId));
    },
    replaceRoles: (userId, roles) => {
      stmt.dropRoles.run(userId);
      for (const [repo, role] of Object.entries(roles)) stmt.setRole.run(userId, repo, role);
    },
    touchLogin: (id) => void stmt.login.run(clock.now(), id),
    countAdmins: () => stmt.admins.get()!,

    addToken: ({ userId, name, secret, scope, repos, expiresAtMs }) => {
      const { id } = unique(() => stmt.addToken.get(userId, name, sha256(secret), scope, repos === null ? null : JSON.stringify(repos), clock.now(), expiresAtMs)!,
        `a token named ${name}`);
      return toToken(stmt.tokenById.get(id)!);
    },
    verifyToken: (secret) => {
      const hash = sha256(secret);
      const row = stmt.tokenByHash.get(hash);
      if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
      const now = clock.now();
      if (row.expires_at !== null && row.expires_at <= now) return null;
      const user = stmt.byId.get(row.user_id)!;
      if (user.disabled === 1) return null;
      if (row.last_used_at === null || now - row.last_used_at >= USED_EVERY_MS) {
        stmt.used.run(now, row.id);
        row.last_used_at = now;
      }
      return { token: toToken(row), user: toUser(user) };
    },
    listTokens: (userId) => (userId === undefined ? stmt.allTokens.all() : stmt.tokensOf.all(userId)).map(toToken),
    getToken: (id) => {
      const row = stmt.tokenById.get(id);
      return row ? toToken(row) : null;
    },
    revokeToken: (id) => stmt.revoke.run(id).changes === 1,

    createSession: (s) => {
      stmt.expired.run(clock.now());
      stmt.addSession.run(sha256(s.id), s.userId, s.kind, s.csrf, clock.now(), s.expiresAtMs);
    },
    getSession: (id) => {
      const row = stmt.session.get(sha256(id));
      if (!row) return null;
      if (row.expires_at <= clock.now()) {
        stmt.dropSession.run(sha256(id));
        return null;
      }
      return { userId: row.user_id, kind: row.kind, csrf: row.csrf, expiresAtMs: row.expires_at };
    },
    removeSession: (id) => void stmt.dropSession.run(sha256(id)),
    removeSessionsOf: (userId) => void stmt.dropSessionsOf.run(userId),
  };
}
