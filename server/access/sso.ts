// The far side of single sign-on's seam (server/oidc/): a verified identity becomes a kiln user
// and a dashboard session. The user is found by issuer and subject (never by a name or an email
// the provider lets people change); a new one is named after the email's local part (or the
// name, or the subject), made unique. Each sign-in sets the user's admin flag, groups and roles
// afresh from the identity provider's groups, so that a group change there takes effect here.
import type { Context } from 'hono';
import type { OidcIdentity } from '../oidc/identity.js';
import type { Store, User } from '../store/index.js';
import type { Access } from './access.js';
import { openSession } from './cookie.js';
import type { Sessions } from './sessions.js';

/** What a verified sign-in says (server/oidc's identity). */
export type SsoIdentity = OidcIdentity;

export type SsoSignIn = (c: Context, identity: SsoIdentity, next: string) => Response;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function baseName(identity: SsoIdentity): string {
  for (const candidate of [identity.email?.split('@')[0], identity.name?.replace(/\s+/g, '.'), identity.subject]) {
    const cleaned = (candidate ?? '').normalize('NFKD').replace(/[^A-Za-z0-9._@-]/g, '').replace(/^[._@-]+/, '').slice(0, 56);
    if (NAME.test(cleaned)) return cleaned;
  }
  return 'user';
}

export function createSsoSignIn({ store, sessions, access, refuse }: {
  store: Store; sessions: Sessions; access: Access;
  /** The answer for a disabled account. */
  refuse(c: Context, message: string): Response;
}): SsoSignIn {
  const key = (identity: SsoIdentity) => `${identity.issuer} ${identity.subject}`;
  const userFor = (identity: SsoIdentity): User => store.transaction(() => {
    let user = store.users.getUserBySubject('oidc', key(identity));
    if (!user) {
      const base = baseName(identity);
      let name = base;
      for (let n = 2; store.users.getUserByName(name); n++) name = `${base}-${n}`;
      user = store.users.addUser({ name, email: identity.email, source: 'oidc', subject: key(identity) });
    }
    if (user.disabled) return user;
    store.users.replaceRoles(user.id, identity.repoRoles);
    return store.users.updateUser(user.id, { admin: identity.admin, groups: identity.groups, email: identity.email ?? user.email });
  });
  return (c, identity, next) => {
    const user = userFor(identity);
    if (user.disabled) return refuse(c, `the account ${user.name} is disabled`);
    store.users.touchLogin(user.id);
    openSession(c, sessions, user);
    access.signedIn(c, user);
    return c.redirect(next, 303);
  };
}
