// Single sign-on through OpenID Connect: the routes and the identity they hand to the caller.
export { createOidcRoutes, OIDC_COOKIE, type OidcPage, type OidcRoutes, type OidcRoutesOptions } from './routes.js';
export { identityFromClaims, REPO_ROLES, type Claims, type OidcConfig, type OidcIdentity, type RepoRole } from './identity.js';
export type { Schedule } from './discovery.js';
