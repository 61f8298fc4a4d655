// The agent's configuration: flags over environment over defaults, and one-line errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig, type AgentFlags } from '../../../agent/config.js';

const load = (flags: AgentFlags, env: Record<string, string> = {}) =>
  loadAgentConfig({ flags, env, cwd: '/srv', homeDir: '/home/ci', hostname: 'build-3.example.com', random: () => 0.5 });
const base = { server: 'http://ci:8080/', token: 'tok' };

describe('agent configuration', () => {
  it('reads the token from --token-file or KILN_AGENT_TOKEN_FILE (a flag first), and refuses an empty or odd file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-token-'));
    const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    const good = file('agent.token', 'from-the-file\n');
    const other = file('other.token', 'from-the-env-file');
    expect(load({ server: 'http://ci', tokenFile: good }).token).toBe('from-the-file');
    expect(load({ server: 'http://ci' }, { KILN_AGENT_TOKEN_FILE: other, KILN_AGENT_TOKEN: 'plain' }).token).toBe('from-the-env-file');
    expect(load({ server: 'http://ci', tokenFile: good }, { KILN_AGENT_TOKEN_FILE: other }).token).toBe('from-the-file');
    expect(load({ server: 'http://ci', token: 'flag' }, { KILN_AGENT_TOKEN_FILE: other }).token).toBe('flag');
    expect(() => load({ server: 'http://ci', tokenFile: file('empty', ' \n') })).toThrow(`--token-file: ${join(dir, 'empty')} is empty; it should hold the server's agent token (<data>/agent.token)`);
    expect(() => load({ server: 'http://ci' }, { KILN_AGENT_TOKEN_FILE: file('two', 'a b\n') })).toThrow(`KILN_AGENT_TOKEN_FILE: ${join(dir, 'two')} holds more than one word; it should hold only the server's agent token`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('has defaults for everything but the server and the token', () => {
    expect(load(base)).toEqual({
      serverUrl: 'http://ci:8080', token: 'tok', labels: ['linux'], capacity: 1, name: 'build-3-8000',
      pool: null, workDir: '/home/ci/.kiln-agent', once: false, logLevel: 'info',
      docker: { enabled: true, host: null, defaultHost: null, tls: false, network: 'bridge', dind: { privileged: true }, caBundle: null, volumes: [] },
      gitCache: null,
      orphanTimeoutMs: 600_000,
      envPassthrough: [],
      cacheLocalMaxBytes: 5 * 1024 ** 3,
      cacheLocalDir: null,
    });
    expect(loadAgentConfig({ flags: base, env: {}, cwd: '/srv', homeDir: null, hostname: 'h' }).workDir).toBe('/srv/.kiln-agent');
  });

  it('reads the environment, and flags win over it', () => {
    const env = { KILN_SERVER: 'https://ci.example.com', KILN_AGENT_TOKEN: 't2', KILN_LABELS: 'linux, gpu,,gpu', KILN_CAPACITY: '4', KILN_AGENT_NAME: 'a1', KILN_POOL: 'big', KILN_AGENT_DIR: 'work' };
    expect(load({}, env)).toMatchObject({ serverUrl: 'https://ci.example.com', token: 't2', labels: ['linux', 'gpu'], capacity: 4, name: 'a1', pool: 'big', workDir: '/srv/work' });
    expect(load({ capacity: '2', labels: 'arm' }, env)).toMatchObject({ capacity: 2, labels: ['arm'] });
  });

  it('reads the Docker settings: engine, network mode, and the explicit dind security set', () => {
    const env = { KILN_DOCKER_HOST: 'tcp://build-3:2375', KILN_DOCKER_NETWORK: 'host', KILN_DIND_SECURITY: 'unprivileged', KILN_DIND_CAP_ADD: 'SYS_ADMIN' };
    expect(load(base, env).docker).toEqual({
      enabled: true, host: 'tcp://build-3:2375', defaultHost: null, tls: false, network: 'host',
      dind: { privileged: false, capAdd: ['SYS_ADMIN'], securityOpt: ['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined'] },
      caBundle: null, volumes: [],
    });
    expect(load({ ...base, noDocker: true }).docker.enabled).toBe(false);
    expect(() => load({ ...base, dockerNetwork: 'overlay' })).toThrow('--docker-network: expected bridge or host, got "overlay"');
  });

  it('reads the shared git cache folder from --git-cache or KILN_GIT_CACHE, relative to the working folder', () => {
    expect(load(base, { KILN_GIT_CACHE: 'cache/git' }).gitCache).toBe('/srv/cache/git');
    expect(load({ ...base, gitCache: '/var/cache/kiln-git' }, { KILN_GIT_CACHE: 'other' }).gitCache).toBe('/var/cache/kiln-git');
  });

  it('reads the size of local cache copies from --cache-local-max or KILN_CACHE_LOCAL_MAX', () => {
    expect(load(base, { KILN_CACHE_LOCAL_MAX: '500MiB' }).cacheLocalMaxBytes).toBe(500 * 1024 ** 2);
    expect(load(base, { KILN_CACHE_LOCAL_DIR: '/srv/kiln-caches' }).cacheLocalDir).toBe('/srv/kiln-caches');
    expect(load({ ...base, cacheLocalMax: '0' }, { KILN_CACHE_LOCAL_MAX: '1GiB' }).cacheLocalMaxBytes).toBe(0);
    expect(() => load(base, { KILN_CACHE_LOCAL_MAX: 'lots' })).toThrow('KILN_CACHE_LOCAL_MAX: expected a size such as 5GiB, 500MiB or 0, got "lots"');
  });

  it('reads the orphan timeout as a duration, from the flag or KILN_ORPHAN_TIMEOUT', () => {
    expect(load({ ...base, orphanTimeout: '2s' }).orphanTimeoutMs).toBe(2000);
    expect(load(base, { KILN_ORPHAN_TIMEOUT: '1h30m' }).orphanTimeoutMs).toBe(5_400_000);
    expect(load({ ...base, orphanTimeout: '45s' }, { KILN_ORPHAN_TIMEOUT: '1h' }).orphanTimeoutMs).toBe(45_000);
  });

  it.each([
    [{ ...base, orphanTimeout: '10' }, '--orphan-timeout: expected a duration from 1s to 365d such as 90s, 10m or 1h30m, got "10"'],
    [{ ...base, orphanTimeout: '0s' }, '--orphan-timeout: expected a duration from 1s to 365d such as 90s, 10m or 1h30m, got "0s"'],
    [{ ...base, orphanTimeout: '366d' }, '--orphan-timeout: expected a duration from 1s to 365d such as 90s, 10m or 1h30m, got "366d"'],
    [{ token: 't' }, '--server (or KILN_SERVER) is required: the URL of the kiln server, e.g. http://ci:8080'],
    [{ server: 'http://ci' }, '--token-file or --token (or KILN_AGENT_TOKEN_FILE, KILN_AGENT_TOKEN) is required: the agent token of the server (<data>/agent.token)'],
    [{ ...base, tokenFile: '/t' }, 'give --token or --token-file, not both'],
    [{ server: 'http://ci', tokenFile: '/nonexistent/agent.token' }, '--token-file: cannot read /nonexistent/agent.token (ENOENT)'],
    [{ ...base, server: 'ci:8080' }, '--server: expected an http:// or https:// URL, got "ci:8080"'],
    [{ ...base, server: 'http://u:p@ci' }, '--server: put the token in --token, not in the URL'],
    [{ ...base, capacity: '1.5' }, '--capacity: expected a whole number of jobs from 1 to 256, got "1.5"'],
    [{ ...base, capacity: '300' }, '--capacity: expected a whole number of jobs from 1 to 256, got "300"'],
    [{ ...base, labels: ' , ' }, '--labels: give at least one label, e.g. linux,docker'],
    [{ ...base, labels: 'linux,has space' }, '--labels: "has space" is not a label (letters, digits and . _ : / = -)'],
    [{ ...base, name: '-x' }, '--name: "-x" is not a name (letters, digits and . _ -, at most 200)'],
  ])('refuses %j with one line', (flags, message) => {
    expect(() => load(flags)).toThrow(message);
  });
});
