// The agent's variables that host jobs see: the allowlist, the owner's passthrough, never kiln's own.
import { describe, expect, it } from 'vitest';
import { pickBaseEnv } from '../../../agent/executors/host-env.js';

const agentEnv = {
  PATH: '/usr/bin', HOME: '/home/ci', LANG: 'C.UTF-8', https_proxy: 'http://127.0.0.1:3128', SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1',
  NODE_EXTRA_CA_CERTS: '/etc/ca.pem', SSL_CERT_FILE: '/etc/ca.pem', SSL_CERT_DIR: '/etc/ssl/certs', AWS_SECRET_ACCESS_KEY: 'aws-secret',
  KILN_AGENT_TOKEN: 'agent-token-1234', KILN_TOKEN: 'admin-token-5678', KILN_SECRET_KEY_FILE: '/srv/kiln/secret.key', kiln_note: 'x',
  MY_COPY: 'agent-token-1234', MY_FILE_COPY: 'agent-token-1234\n',
};

describe('the environment of host jobs', () => {
  it('holds only PATH, HOME, locale and proxies without a passthrough', () => {
    expect(pickBaseEnv(agentEnv)).toEqual({ PATH: '/usr/bin', HOME: '/home/ci', LANG: 'C.UTF-8', https_proxy: 'http://127.0.0.1:3128' });
  });

  it('adds the names and globs of the passthrough, case-sensitively', () => {
    expect(pickBaseEnv(agentEnv, { passthrough: ['NODE_EXTRA_CA_CERTS', 'SSL_*', 'ssh_*'] })).toMatchObject({ NODE_EXTRA_CA_CERTS: '/etc/ca.pem', SSL_CERT_FILE: '/etc/ca.pem', SSL_CERT_DIR: '/etc/ssl/certs' });
    expect(Object.keys(pickBaseEnv(agentEnv, { passthrough: ['SSL_CERT_?ILE', 'ssh_*'] }))).toEqual(['PATH', 'HOME', 'LANG', 'https_proxy', 'SSL_CERT_FILE']);
  });

  it("never passes kiln's own variables, in any case, nor a variable that holds the agent's token, whatever a glob matches", () => {
    const env = pickBaseEnv(agentEnv, { passthrough: ['*'], neverValues: ['agent-token-1234'] });
    expect(Object.keys(env).filter((k) => /kiln/i.test(k))).toEqual([]);
    expect(env).not.toHaveProperty('MY_COPY');
    expect(env).not.toHaveProperty('MY_FILE_COPY');
    expect(env).toMatchObject({ SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1', AWS_SECRET_ACCESS_KEY: 'aws-secret' });
    expect(Object.keys(pickBaseEnv(agentEnv, { passthrough: ['K*', 'MY_*'], neverValues: ['agent-token-1234'] }))).toEqual(['PATH', 'HOME', 'LANG', 'https_proxy']);
  });
});
