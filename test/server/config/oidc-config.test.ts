// kiln.yml's `server.oidc`: what it takes, where the client secret comes from, and what it refuses.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../../server/config.js';
import { useTempDirs } from '../../helpers/tmp.js';

const tempDir = useTempDirs();

async function load(yaml: string, env: Record<string, string> = {}) {
  const dir = await tempDir();
  await writeFile(join(dir, 'kiln.yml'), yaml);
  return loadServerConfig({ env, cwd: dir, cpus: 2 });
}

const oidc = (extra = '') => `server:\n  url: https://ci.example/\n  oidc:\n    issuer: https://id.example/realms/main\n    client_id: kiln\n${extra}`;

describe('server.oidc', () => {
  it('is null when absent', async () => {
    expect((await load('server: {}\n')).oidc).toBeNull();
  });

  it('takes issuer, client, admin group and roles, with the callback under server.url and defaults', async () => {
    const config = await load(oidc('    admin_group: kiln-admins\n    roles:\n      web-team: { web: developer, "*": viewer }\n'), { KILN_OIDC_CLIENT_SECRET: 's3cret' });
    expect(config.oidc).toEqual({
      issuer: 'https://id.example/realms/main', clientId: 'kiln', clientSecret: 's3cret',
      callbackUrl: 'https://ci.example/auth/oidc/callback', adminGroup: 'kiln-admins', groupsClaim: 'groups',
      roles: { 'web-team': { web: 'developer', '*': 'viewer' } }, scopes: ['openid', 'email', 'profile', 'groups'],
    });
  });

  it('reads the client secret from client_secret_env, else KILN_OIDC_CLIENT_SECRET, else client_secret', async () => {
    expect((await load(oidc('    client_secret_env: SSO_SECRET\n'), { SSO_SECRET: 'a', KILN_OIDC_CLIENT_SECRET: 'b' })).oidc?.clientSecret).toBe('a');
    expect((await load(oidc('    client_secret: c\n'), { KILN_OIDC_CLIENT_SECRET: 'b' })).oidc?.clientSecret).toBe('b');
    expect((await load(oidc('    client_secret: c\n'))).oidc?.clientSecret).toBe('c');
    await expect(load(oidc('    client_secret_env: SSO_SECRET\n'))).rejects.toThrow(/server\.oidc\.client_secret_env: SSO_SECRET is not set in the environment/);
    await expect(load(oidc())).rejects.toThrow(/server\.oidc: no client secret \(set KILN_OIDC_CLIENT_SECRET/);
  });

  it('takes plain http only for a loopback issuer', async () => {
    const env = { KILN_OIDC_CLIENT_SECRET: 's' };
    const at = (issuer: string) => load(`server:\n  oidc: { issuer: "${issuer}", client_id: kiln }\n`, env);
    expect((await at('http://127.0.0.1:9000')).oidc?.issuer).toBe('http://127.0.0.1:9000');
    expect((await at('http://localhost:9000/x')).oidc?.callbackUrl).toBe('http://127.0.0.1:8080/auth/oidc/callback');
    expect((await at('http://[::1]:9000')).oidc?.issuer).toBe('http://[::1]:9000');
    await expect(at('http://id.example')).rejects.toThrow(/server\.oidc\.issuer: expected an https URL \(plain http only for a loopback host/);
    await expect(at('ftp://id.example')).rejects.toThrow(/server\.oidc\.issuer/);
  });

  it('refuses an unknown role, a bad repo name, scopes without openid and unknown keys, naming the key', async () => {
    const env = { KILN_OIDC_CLIENT_SECRET: 's' };
    await expect(load(oidc('    roles: { devs: { web: owner } }\n'), env)).rejects.toThrow(/server\.oidc\.roles\.devs\.web: a role is viewer, developer, maintainer or admin/);
    await expect(load(oidc('    roles: { devs: { "no/slash": viewer } }\n'), env)).rejects.toThrow(/server\.oidc\.roles\.devs.*expected a repo name or "\*"/);
    await expect(load(oidc('    scopes: [email]\n'), env)).rejects.toThrow(/server\.oidc\.scopes: the scopes must include openid/);
    await expect(load(oidc('    secret: x\n'), env)).rejects.toThrow(/server\.oidc\.secret: unknown key "secret"/);
  });
});
