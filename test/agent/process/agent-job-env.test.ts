// A real `kiln agent` gives jobs what its owner allows: the agent's variables to host jobs
// (--env-passthrough), a CA bundle and volumes to job containers; bad settings stop its start.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { JobAssignment } from '../../../shared/protocol/messages.js';
import { skipDocker } from '../../helpers/docker.js';
import { makeTempDir } from '../../helpers/git.js';
import { plannedStep } from '../../helpers/plan.js';
import { TOKEN, useAgentFixture } from './fixture.js';
import { assignment, linesOf, type PeerConnection } from './peer.js';

const fx = useAgentFixture();
const docker = async (...args: string[]) => (await promisify(execFile)('docker', args)).stdout;
const HOST_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Runs one job on the connection; its status and the lines its step printed. */
async function runJob(c: PeerConnection, a: JobAssignment, timeoutMs = 60_000): Promise<{ status: string; lines: string[] }> {
  c.send({ type: 'job', assignment: a });
  const done = await c.waitFor((m) => m.type === 'done' && m.jobId === a.jobId, timeoutMs) as { status: string };
  return { status: done.status, lines: linesOf(c.logs().filter((l) => l.jobId === a.jobId)) };
}

/** The VAR=value lines of `env` in a step's output. */
const envOf = (lines: string[]) => Object.fromEntries(lines.filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('kiln agent: the environment of host jobs', () => {
  const agentEnv = {
    JOBENV_ONE: 'one', JOBENV_TWO: 'two', OTHER_VAR: 'other', COPY_OF_TOKEN: TOKEN,
    KILN_AGENT_TOKEN: TOKEN, KILN_ADMIN_TOKEN: 'admin-token-0b7c', KILN_TOKEN: 'client-token-77aa', KILN_SECRET_KEY_FILE: '/srv/kiln/secret.key',
  };

  it("passes none of the agent's variables beyond PATH, HOME, locale and proxies without a passthrough", async () => {
    await fx.agent(['--no-docker'], { env: agentEnv });
    const c = await fx.peer.nextConnection();
    const job = await runJob(c, assignment(61, fx.sha, [plannedStep('env')]));
    expect(job.status).toBe('success');
    const env = envOf(job.lines);
    expect(env.PATH).toBe(process.env.PATH);
    for (const name of [...Object.keys(agentEnv), 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE']) expect(env).not.toHaveProperty(name);
  });

  it("passes the names and globs of KILN_AGENT_ENV_PASSTHROUGH, and never kiln's own variables or the agent's token, whatever a glob matches", async () => {
    await fx.agent(['--no-docker'], { env: { ...agentEnv, KILN_AGENT_ENV_PASSTHROUGH: 'JOBENV_*, K*\nCOPY_OF_TOKEN,*_SECRET_*' } });
    const c = await fx.peer.nextConnection();
    const job = await runJob(c, assignment(62, fx.sha, [plannedStep('env')]));
    expect(job.status).toBe('success');
    const env = envOf(job.lines);
    expect(env).toMatchObject({ JOBENV_ONE: 'one', JOBENV_TWO: 'two' });
    for (const name of ['OTHER_VAR', 'COPY_OF_TOKEN', 'KILN_AGENT_TOKEN', 'KILN_ADMIN_TOKEN', 'KILN_TOKEN', 'KILN_SECRET_KEY_FILE', 'KILN_AGENT_ENV_PASSTHROUGH']) {
      expect(env).not.toHaveProperty(name);
    }
    expect(job.lines.join('\n')).not.toContain(TOKEN);
    // The job's own KILN_* variables come from the assignment, not from the agent.
    expect(env.KILN_JOB).toBe('job-62');
  });

  // npm itself is no test here: this host's global npmrc names a cafile. Node alone is.
  it('lets Node in a host job reach the npm registry through this machine\'s TLS proxy once NODE_EXTRA_CA_CERTS is passed through', async () => {
    const get = "require('https').get('https://registry.npmjs.org/left-pad', (r) => { console.log('status ' + r.statusCode); r.resume(); }).on('error', (e) => { console.log(e.code); process.exit(1); })";
    const npm = (jobId: number) => assignment(jobId, fx.sha, [plannedStep(`node -e "${get}"`)]);
    const first = await fx.agent(['--no-docker'], { env: { NODE_EXTRA_CA_CERTS: HOST_BUNDLE } });
    let c = await fx.peer.nextConnection();
    const without = await runJob(c, npm(63), 90_000);
    await first.kill();
    expect(without.status).toBe('failed');
    expect(without.lines.join('\n')).toContain('SELF_SIGNED_CERT_IN_CHAIN');
    await fx.agent(['--no-docker', '--env-passthrough', 'NODE_EXTRA_CA_CERTS'], { env: { NODE_EXTRA_CA_CERTS: HOST_BUNDLE } });
    c = await fx.peer.nextConnection();
    const passed = await runJob(c, npm(64), 90_000);
    expect(passed).toMatchObject({ status: 'success' });
    expect(passed.lines).toContain('status 200');
  }, 200_000);
});

describe('kiln agent: bad job-environment settings stop the start with one line', () => {
  it.each([
    [['--docker-ca-bundle', '/nonexistent/ca.pem'], {}, 'kiln agent: --docker-ca-bundle: /nonexistent/ca.pem does not exist (give the host\'s CA bundle, e.g. /etc/ssl/certs/ca-certificates.crt)'],
    [[], { KILN_DOCKER_CA_BUNDLE: '/etc/ssl/certs' }, 'kiln agent: KILN_DOCKER_CA_BUNDLE: /etc/ssl/certs is not a file (give a PEM bundle such as /etc/ssl/certs/ca-certificates.crt)'],
    [['--docker-volumes', '/etc:/host-etc:rx'], {}, 'kiln agent: --docker-volumes: "/etc:/host-etc:rx": the mode is ro or rw, got "rx"'],
    [[], { KILN_DOCKER_VOLUMES: 'etc:/host-etc' }, 'kiln agent: KILN_DOCKER_VOLUMES: "etc:/host-etc": the host path must be absolute'],
    [['--docker-volumes', '/nonexistent/ref:/ref:ro'], {}, 'kiln agent: --docker-volumes: "/nonexistent/ref:/ref:ro": /nonexistent/ref does not exist on this host'],
    [['--env-passthrough', 'SSL_*,KILN_AGENT_TOKEN'], {}, 'kiln agent: --env-passthrough: "KILN_AGENT_TOKEN": kiln\'s own variables (KILN_*, its tokens and settings) are never passed to jobs'],
  ])('%j %j', async (args, env, message) => {
    const agent = await fx.agent(args, { env });
    expect(await agent.exited).toEqual({ code: 2, signal: null });
    expect(agent.stderr()).toBe(`${message}\n`);
  });
});

describe.skipIf(skipDocker())('kiln agent: what job containers get from the agent', () => {
  const inImage = (jobId: number, image: string, run: string, env: Record<string, string> = {}) => {
    const a = assignment(jobId, fx.sha, [plannedStep(run, { env })]);
    return { ...a, job: { ...a.job, image, pull: 'never' as const } };
  };
  const npmView = (jobId: number) => inImage(jobId, 'node:20-bookworm-slim',
    'echo "NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-}"; echo "SSL_CERT_FILE=${SSL_CERT_FILE:-}"; sha256sum /etc/ssl/certs/ca-certificates.crt; npm view left-pad version',
    { npm_config_update_notifier: 'false', npm_config_fetch_retries: '0' });

  it('mounts KILN_DOCKER_CA_BUNDLE over the image\'s bundle, so npm reaches the registry through the TLS proxy; without it npm fails', async () => {
    const hostDigest = createHash('sha256').update(await readFile(HOST_BUNDLE)).digest('hex');
    const first = await fx.agent(['--docker-network', 'host']);
    let c = await fx.peer.nextConnection();
    const without = await runJob(c, npmView(71), 120_000);
    await first.kill();
    expect(without.status).toBe('failed');
    expect(without.lines).toContain('NODE_EXTRA_CA_CERTS=');
    expect(without.lines.join('\n')).toContain('SELF_SIGNED_CERT_IN_CHAIN');

    await fx.agent(['--docker-network', 'host'], { env: { KILN_DOCKER_CA_BUNDLE: HOST_BUNDLE } });
    c = await fx.peer.nextConnection();
    const withBundle = await runJob(c, npmView(72), 120_000);
    expect(withBundle.status).toBe('success');
    expect(withBundle.lines).toContain(`the agent mounts the CA bundle ${HOST_BUNDLE} at /etc/ssl/certs/ca-certificates.crt`);
    expect(withBundle.lines).toEqual(expect.arrayContaining([
      'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
      `${hostDigest}  /etc/ssl/certs/ca-certificates.crt`,
    ]));
    expect(withBundle.lines).toContainEqual(expect.stringMatching(/^\d+\.\d+\.\d+$/));
  }, 300_000);

  it('mounts the volumes of KILN_DOCKER_VOLUMES: a read-only one cannot be written, a read-write one writes through to the host', async () => {
    const ref = await makeTempDir('kiln-ref-');
    const out = await makeTempDir('kiln-out-');
    await writeFile(join(ref, 'hello.txt'), 'from the host\n');
    await fx.agent(['--docker-network', 'host', '--docker-volumes', `${ref}:/ref:ro,${out}:/out`]);
    const c = await fx.peer.nextConnection();
    const job = await runJob(c, inImage(73, 'busybox:latest', [
      'cat /ref/hello.txt',
      'if echo x > /ref/new.txt; then echo "wrote the read-only volume"; exit 1; fi',
      'echo made in the job > /out/made.txt',
    ].join('\n')));
    expect(job.status).toBe('success');
    expect(job.lines).toContain(`the agent mounts ${ref} at /ref (read-only), ${out} at /out (read-write)`);
    expect(job.lines).toContain('from the host');
    expect(job.lines).toContainEqual(expect.stringMatching(/Read-only file system/));
    expect(existsSync(join(ref, 'new.txt'))).toBe(false);
    expect(await readFile(join(out, 'made.txt'), 'utf8')).toBe('made in the job\n');
  }, 120_000);

  it('mounts an agent volume where the image declares a VOLUME, instead of an anonymous volume there', async () => {
    const image = `kiln-test-declared-volume:${process.pid}`;
    const made = (await docker('create', 'busybox:latest')).trim();
    try {
      await docker('commit', '--change', 'VOLUME ["/ref"]', made, image);
    } finally {
      await docker('rm', made);
    }
    try {
      const ref = await makeTempDir('kiln-ref-');
      await writeFile(join(ref, 'hello.txt'), 'from the host\n');
      await fx.agent(['--docker-network', 'host', '--docker-volumes', `${ref}:/ref:ro`]);
      const c = await fx.peer.nextConnection();
      const job = await runJob(c, inImage(74, image, 'cat /ref/hello.txt'));
      expect(job).toMatchObject({ status: 'success' });
      expect(job.lines).toContain('from the host');
    } finally {
      await docker('rmi', '--force', image);
    }
  }, 120_000);
});
