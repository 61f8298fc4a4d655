// Users, roles, tokens and sessions: who a request is (authenticate.ts), what it may do
// (principal.ts), and the guard each route declares (access.ts).
import type { Store } from '../store/index.js';
import { createAccess, type Access } from './access.js';
import { createAuthenticate } from './authenticate.js';
import { createSessions, type Sessions } from './sessions.js';

export { createAccess, listRoutes, repoFinders, repoParam, type Access, type DeclaredRoute, type RepoOf } from './access.js';
export { createAuthenticate, presentedToken, cookieValue, USER_TOKEN_PREFIX, type Authenticate, type Presented } from './authenticate.js';
export { actorOf, can, isServerAdmin, nameOf, roleOn, ANONYMOUS, type Need, type Principal } from './principal.js';
export { createSessions, sameToken, SESSION_COOKIE, SESSION_TTL_MS, type Session, type Sessions } from './sessions.js';

/** The access layer over a store's tokens, users and sessions. */
export function accessFor(store: Store, options: { private: boolean; now?: () => number }): Access & { sessions: Sessions } {
  const sessions = createSessions(store.users, options.now);
  return Object.assign(createAccess({ authenticate: createAuthenticate(store, sessions), private: options.private }), { sessions });
}
