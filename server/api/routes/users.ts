// Accounts: password login and logout (`/api/login`, `/api/logout`), who am I (`/api/me`),
// users and their roles (server admins), and API tokens (each user their own; admins any).
import type { Context } from 'hono';
import { Hono } from 'hono';
import { KilnError, notFound } from '../../../shared/errors.js';
import { isServerAdmin, nameOf, roleOn, type Principal } from '../../access/index.js';
import { issueUserToken } from '../../access/user-tokens.js';
import { closeSession, openSession } from '../../access/cookie.js';
import { checkPassword, hashPassword, verifyPassword } from '../../access/passwords.js';
import { ALL_REPOS, type User, type UserToken } from '../../store/index.js';
import { idParam, param, readJson, type ApiOptions } from '../http.js';

export function userView(u: User) {
  return {
    id: u.id, name: u.name, email: u.email, admin: u.admin, groups: u.groups, source: u.source, disabled: u.disabled,
    has_password: u.hasPassword, roles: u.roles, created_at: u.createdAt, last_login_at: u.lastLoginAt,
  };
}

export function tokenView(t: UserToken) {
  return { id: t.id, user: t.user, name: t.name, scope: t.scope, repos: t.repos, created_at: t.createdAt, expires_at: t.expiresAt, last_used_at: t.lastUsedAt };
}

export function principalView(p: Principal) {
  return {
    kind: p.kind, name: nameOf(p), via: p.via, admin: isServerAdmin(p),
    user: p.user ? userView(p.user) : null,
    token: p.token ? { name: p.token.name, scope: p.token.scope, repos: p.token.repos } : null,
  };
}

export function createUserRoutes({ store, access, accounts }: ApiOptions): Hono {
  const app = new Hono();
  const { guard } = access;
  const userNamed = (name: string): User => {
    const user = store.users.getUserByName(name);
    if (!user) throw notFound(`no user named ${name}`);
    return user;
  };
  const audited = (c: Context, target: string) => (c.set as (key: string, value: unknown) => void)('auditTarget', target);

  if (accounts) {
    const { login, sessions, addressOf } = accounts;
    app.post('/api/login', guard('open'), async (c) => {
      const body = await readJson(c, 'login');
      audited(c, `user/${body.name}`);
      const user = await login(body.name, body.password, addressOf(c));
      const session = openSession(c, sessions, user);
      access.signedIn(c, user);
      return c.json({ user: userView(user), csrf: session.csrf, expires_at: new Date(session.expiresAtMs).toISOString() });
    });
    app.post('/api/logout', guard('open'), (c) => {
      closeSession(c, sessions);
      return c.body(null, 204);
    });
  }
  app.get('/api/me', guard('open'), (c) => c.json(principalView(access.principalOf(c))));
  app.put('/api/me/password', guard('user'), async (c) => {
    const user = access.principalOf(c).user;
    if (!user) throw new KilnError('forbidden', 'the admin token has no password: change a user\'s with PATCH /api/users/:name');
    const body = await readJson(c, 'password');
    if (user.hasPassword && !(await verifyPassword(body.current ?? '', store.users.passwordHashOf(user.id)))) {
      throw new KilnError('forbidden', 'the current password is wrong');
    }
    store.users.updateUser(user.id, { passwordHash: await hashPassword(body.password) });
    return c.body(null, 204);
  });

  app.get('/api/users', guard('admin'), (c) => c.json(store.users.listUsers().map(userView)));
  app.post('/api/users', guard('admin'), async (c) => {
    const body = await readJson(c, 'user');
    audited(c, `user/${body.name}`);
    if (body.password !== undefined) checkPassword(body.password);
    const passwordHash = body.password === undefined ? null : await hashPassword(body.password);
    const user = store.users.addUser({ name: body.name, email: body.email ?? null, passwordHash, admin: body.admin ?? false, groups: body.groups ?? [] });
    return c.json(userView(user), 201);
  });
  app.get('/api/users/:name', guard('admin'), (c) => c.json(userView(userNamed(param(c, 'name')))));
  app.patch('/api/users/:name', guard('admin'), async (c) => {
    const user = userNamed(param(c, 'name'));
    const body = await readJson(c, 'userChanges');
    if (body.password !== undefined) checkPassword(body.password);
    const updated = store.users.updateUser(user.id, {
      ...(body.email !== undefined ? { email: body.email } : {}),
      ...(body.admin !== undefined ? { admin: body.admin } : {}),
      ...(body.groups !== undefined ? { groups: body.groups } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
      ...(body.password !== undefined ? { passwordHash: await hashPassword(body.password) } : {}),
    });
    return c.json(userView(updated));
  });
  app.delete('/api/users/:name', guard('admin'), (c) => {
    const user = userNamed(param(c, 'name'));
    store.users.removeUser(user.id);
    return c.body(null, 204);
  });
  // `:repo` is a repo's name, or `*` for every repo.
  app.put('/api/users/:name/roles/:repo', guard('admin'), async (c) => {
    const user = userNamed(param(c, 'name'));
    const repo = param(c, 'repo');
    if (repo !== ALL_REPOS && !store.repos.getRepoByName(repo)) throw notFound(`no repo named ${repo} (or * for every repo)`);
    const { role } = await readJson(c, 'role');
    return c.json(userView(store.users.setRole(user.id, repo, role)));
  });
  app.delete('/api/users/:name/roles/:repo', guard('admin'), (c) => {
    const user = userNamed(param(c, 'name'));
    return c.json(userView(store.users.setRole(user.id, param(c, 'repo'), null)));
  });

  // Tokens: a user's own (a session, or a token of scope admin); a server admin's of anyone (?user=).
  const tokenOwner = (c: Context): User => {
    const p = access.principalOf(c);
    const asked = c.req.query('user');
    if (asked !== undefined && asked !== p.user?.name) {
      if (!isServerAdmin(p)) throw new KilnError('forbidden', 'only a server admin may manage the tokens of another user');
      return userNamed(asked);
    }
    if (!p.user) throw new KilnError('forbidden', 'the admin token has no tokens of its own: name a user with ?user=');
    return p.user;
  };
  const own = guard('user');
  app.get('/api/tokens', own, (c) => {
    const p = access.principalOf(c);
    if (c.req.query('all') === '1') {
      if (!isServerAdmin(p)) throw new KilnError('forbidden', 'only a server admin may list every token');
      return c.json(store.users.listTokens().map(tokenView));
    }
    return c.json(store.users.listTokens(tokenOwner(c).id).map(tokenView));
  });
  app.post('/api/tokens', own, async (c) => {
    const owner = tokenOwner(c);
    const body = await readJson(c, 'token');
    audited(c, `user/${owner.name}/token/${body.name}`);
    const p = access.principalOf(c);
    const { token, secret } = issueUserToken(store, owner, p, body);
    // The only time the secret is shown.
    return c.json({ ...tokenView(token), token: secret, role: roleOn({ kind: 'user', user: owner, via: 'token', token: { id: token.id, name: token.name, scope: token.scope, repos: token.repos } }, null) }, 201);
  });
  app.delete('/api/tokens/:id', own, (c) => {
    const p = access.principalOf(c);
    const token = store.users.getToken(idParam(c));
    if (!token || (!isServerAdmin(p) && token.userId !== p.user?.id)) throw notFound(`no token ${c.req.param('id')}`);
    audited(c, `user/${token.user}/token/${token.name}`);
    store.users.revokeToken(token.id);
    return c.body(null, 204);
  });
  return app;
}
