// The agent owner's settings for the job's environment: the CA bundle and volumes of job
// containers, and the passthrough of variables to host jobs; each mistake a one-line error.
import { describe, expect, it } from 'vitest';
import { loadAgentConfig, type AgentFlags } from '../../../agent/config.js';
import type { PathKind } from '../../../agent/job-env-config.js';

const paths: Record<string, PathKind> = {
  '/etc/ssl/certs/ca-certificates.crt': 'file', '/srv/ca/proxy.pem': 'file', '/etc/ssl/certs': 'directory',
  '/srv/ref': 'directory', '/srv/cache': 'directory', '/srv/tool.sock': 'other',
};
const load = (flags: AgentFlags, env: Record<string, string> = {}) => loadAgentConfig({
  flags: { server: 'http://ci:8080', token: 'tok', workDir: '/var/lib/kiln-agent', ...flags }, env,
  cwd: '/srv', homeDir: '/home/ci', hostname: 'h', pathKind: (p) => paths[p] ?? null,
});

describe('agent configuration: the job environment', () => {
  it('reads the CA bundle from --docker-ca-bundle or KILN_DOCKER_CA_BUNDLE, relative to the working folder', () => {
    expect(load({}, { KILN_DOCKER_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' }).docker.caBundle).toBe('/etc/ssl/certs/ca-certificates.crt');
    expect(load({ dockerCaBundle: 'ca/proxy.pem' }, { KILN_DOCKER_CA_BUNDLE: '/nope' }).docker.caBundle).toBe('/srv/ca/proxy.pem');
    expect(load({}, { KILN_DOCKER_CA_BUNDLE: ' ' }).docker.caBundle).toBeNull();
  });

  it('does not look for the paths of a remote engine, whose host it cannot see', () => {
    const remote = load({ dockerHost: 'tcp://build-3:2376', dockerCaBundle: '/opt/ca.pem', dockerVolumes: '/opt/x:/x' });
    expect(remote.docker).toMatchObject({ caBundle: '/opt/ca.pem', volumes: [{ host: '/opt/x', container: '/x', readOnly: false }] });
    expect(load({}, { DOCKER_HOST: 'ssh://me@build-3', KILN_DOCKER_CA_BUNDLE: '/opt/ca.pem' }).docker.caBundle).toBe('/opt/ca.pem');
  });

  it('reads volumes split by commas or new lines, read-write unless :ro', () => {
    expect(load({}, { KILN_DOCKER_VOLUMES: '/srv/ref:/ref:ro, /srv/cache//:/cache/\n/srv/tool.sock:/run/tool.sock:rw\n' }).docker.volumes).toEqual([
      { host: '/srv/ref', container: '/ref', readOnly: true },
      { host: '/srv/cache', container: '/cache', readOnly: false },
      { host: '/srv/tool.sock', container: '/run/tool.sock', readOnly: false },
    ]);
    expect(load({ dockerVolumes: '/srv/ref:/opt/ref:ro' }, { KILN_DOCKER_VOLUMES: '/srv/cache:/cache' }).docker.volumes).toEqual([{ host: '/srv/ref', container: '/opt/ref', readOnly: true }]);
  });

  it('reads the passthrough names and globs, split by commas or white space', () => {
    expect(load({}, { KILN_AGENT_ENV_PASSTHROUGH: 'NODE_EXTRA_CA_CERTS, SSL_*\nAWS_?EGION,SSL_*' }).envPassthrough).toEqual(['NODE_EXTRA_CA_CERTS', 'SSL_*', 'AWS_?EGION']);
    expect(load({ envPassthrough: 'JAVA_HOME' }, { KILN_AGENT_ENV_PASSTHROUGH: 'SSL_*' }).envPassthrough).toEqual(['JAVA_HOME']);
  });

  it.each([
    [{ dockerCaBundle: '/etc/ssl/nope.pem' }, {}, '--docker-ca-bundle: /etc/ssl/nope.pem does not exist (give the host\'s CA bundle, e.g. /etc/ssl/certs/ca-certificates.crt)'],
    [{}, { KILN_DOCKER_CA_BUNDLE: '/etc/ssl/certs' }, 'KILN_DOCKER_CA_BUNDLE: /etc/ssl/certs is not a file (give a PEM bundle such as /etc/ssl/certs/ca-certificates.crt)'],
    [{ dockerVolumes: '/srv/ref' }, {}, '--docker-volumes: "/srv/ref" is not host:container or host:container:ro'],
    [{ dockerVolumes: '/srv/ref:/ref:ro:z' }, {}, '--docker-volumes: "/srv/ref:/ref:ro:z" is not host:container or host:container:ro'],
    [{}, { KILN_DOCKER_VOLUMES: '/srv/ref:/ref:rx' }, 'KILN_DOCKER_VOLUMES: "/srv/ref:/ref:rx": the mode is ro or rw, got "rx"'],
    [{ dockerVolumes: 'ref:/ref' }, {}, '--docker-volumes: "ref:/ref": the host path must be absolute'],
    [{ dockerVolumes: '/srv/ref:ref' }, {}, '--docker-volumes: "/srv/ref:ref": the container path must be absolute'],
    [{ dockerVolumes: '/srv/ref/../../etc:/ref' }, {}, '--docker-volumes: "/srv/ref/../../etc:/ref": ".." is not allowed in the host path'],
    [{ dockerVolumes: '/srv/ref:/opt/../etc' }, {}, '--docker-volumes: "/srv/ref:/opt/../etc": ".." is not allowed in the container path'],
    [{ dockerVolumes: '/srv/ref:/' }, {}, '--docker-volumes: "/srv/ref:/": a volume cannot be mounted at /'],
    [{ dockerVolumes: '/srv/ref:/.kiln/x' }, {}, '--docker-volumes: "/srv/ref:/.kiln/x": /.kiln/x overlaps /.kiln, which kiln mounts in every job container'],
    [{ dockerVolumes: '/srv/ref:/var/lib' }, {}, '--docker-volumes: "/srv/ref:/var/lib": /var/lib overlaps /var/lib/kiln-agent, which kiln mounts in every job container'],
    [{ dockerVolumes: '/srv/ref:/etc/ssl/certs/ca-certificates.crt', dockerCaBundle: '/srv/ca/proxy.pem' }, {}, '--docker-volumes: "/srv/ref:/etc/ssl/certs/ca-certificates.crt": /etc/ssl/certs/ca-certificates.crt overlaps /etc/ssl/certs/ca-certificates.crt, which kiln mounts in every job container'],
    [{ dockerVolumes: '/srv/ref:/data,/srv/cache:/data/cache' }, {}, '--docker-volumes: "/srv/cache:/data/cache": /data/cache overlaps /data, already mounted from /srv/ref'],
    [{ dockerVolumes: '/srv/missing:/data' }, {}, '--docker-volumes: "/srv/missing:/data": /srv/missing does not exist on this host'],
    [{ envPassthrough: 'MY-VAR' }, {}, '--env-passthrough: "MY-VAR" is not a variable name or glob (letters, digits, _, * and ?)'],
    [{}, { KILN_AGENT_ENV_PASSTHROUGH: 'SSL_*,KILN_AGENT_TOKEN' }, 'KILN_AGENT_ENV_PASSTHROUGH: "KILN_AGENT_TOKEN": kiln\'s own variables (KILN_*, its tokens and settings) are never passed to jobs'],
    [{ envPassthrough: 'kiln_*' }, {}, '--env-passthrough: "kiln_*": kiln\'s own variables (KILN_*, its tokens and settings) are never passed to jobs'],
  ])('refuses %j %j with one line', (flags, env, message) => {
    expect(() => load(flags, env)).toThrow(message);
    try {
      load(flags, env);
    } catch (error) {
      expect((error as Error).message).toBe(message);
    }
  });
});
