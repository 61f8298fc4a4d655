// identityFromClaims: who the claims say someone is, and what their groups grant here.
import { describe, expect, it } from 'vitest';
import { identityFromClaims, type OidcConfig } from '../../../server/oidc/identity.js';

const config: Pick<OidcConfig, 'adminGroup' | 'groupsClaim' | 'roles'> = {
  adminGroup: 'kiln-admins',
  groupsClaim: 'groups',
  roles: {
    web: { web: 'developer', docs: 'viewer' },
    leads: { web: 'maintainer' },
    everyone: { '*': 'viewer' },
  },
};
const base = { iss: 'https://id.example', sub: 'u-1' };

describe('identityFromClaims', () => {
  it('takes issuer, subject, email and name, and makes a member of admin_group an admin', () => {
    expect(identityFromClaims({ ...base, email: 'a@example.com', name: 'Ada', groups: ['kiln-admins'] }, config)).toEqual({
      issuer: 'https://id.example', subject: 'u-1', email: 'a@example.com', name: 'Ada', groups: ['kiln-admins'], admin: true, repoRoles: {},
    });
  });

  it('gives each repo the highest role any of the groups grants, "*" included', () => {
    const identity = identityFromClaims({ ...base, groups: ['leads', 'web', 'everyone', 'unknown'] }, config);
    expect(identity.repoRoles).toEqual({ web: 'maintainer', docs: 'viewer', '*': 'viewer' });
    expect(identity.admin).toBe(false);
  });

  it('grants nothing without groups, and nobody is admin without admin_group', () => {
    expect(identityFromClaims(base, config)).toMatchObject({ groups: [], admin: false, repoRoles: {}, email: null, name: null });
    expect(identityFromClaims({ ...base, groups: ['kiln-admins'] }, { ...config, adminGroup: null }).admin).toBe(false);
  });

  it('falls back to preferred_username for the name, and ignores blank or non-string claims', () => {
    expect(identityFromClaims({ ...base, preferred_username: 'ada', email: 42 }, config)).toMatchObject({ name: 'ada', email: null });
    expect(identityFromClaims({ ...base, name: ' ', preferred_username: 'ada' }, config).name).toBe('ada');
    expect(identityFromClaims({ ...base, groups: ['web', '', 7, null, 'web'] }, config).groups).toEqual(['web']);
  });

  it('reads the groups from another claim, a single string, or a dotted path (Keycloak realm roles)', () => {
    expect(identityFromClaims({ ...base, roles: 'kiln-admins' }, { ...config, groupsClaim: 'roles' }).admin).toBe(true);
    const keycloak = { ...base, realm_access: { roles: ['leads'] } };
    expect(identityFromClaims(keycloak, { ...config, groupsClaim: 'realm_access.roles' }).repoRoles).toEqual({ web: 'maintainer' });
    // A claim whose name has dots (Auth0's namespaced claims) is taken as named first.
    expect(identityFromClaims({ ...base, 'https://kiln/groups': ['web'] }, { ...config, groupsClaim: 'https://kiln/groups' }).groups).toEqual(['web']);
  });

  it('matches Keycloak full group paths ("/kiln-admins") to configured names', () => {
    const identity = identityFromClaims({ ...base, groups: ['/kiln-admins', '/web'] }, config);
    expect(identity).toMatchObject({ admin: true, repoRoles: { web: 'developer', docs: 'viewer' } });
  });

  it('refuses claims without an issuer or a subject', () => {
    expect(() => identityFromClaims({ sub: 'u-1' }, config)).toThrow(/issuer \(iss\) or subject \(sub\)/);
    expect(() => identityFromClaims({ iss: 'https://id.example', sub: '' }, config)).toThrow(/subject/);
  });
});
