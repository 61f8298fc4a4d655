// End to end: `kiln secret` (the built CLI) against a real server process: set from stdin at
// both levels with scopes, list without values, delete; bad input refused in one line with
// nothing changed; the value never on the command line, in the output or in the server's log.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs } from '../helpers/git.js';
import { ADMIN_TOKEN, AGENT_TOKEN, KILN, killAll, startServer, type ServerProcess } from '../helpers/kiln.js';

const VALUE = 'cli-secret-value-7q7q';
let server: ServerProcess;

beforeAll(async () => {
  await isolateGit();
  const repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo building }]\n' });
  server = await startServer({ repos: { web: repo.path } });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

/** Runs `kiln secret …args` with `stdin` piped in (none: stdin closed at once). */
function secret(args: string[], stdin = '', token: string | null = ADMIN_TOKEN): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, KILN_SERVER: server.url, KILN_TOKEN: token ?? undefined };
  if (token === null) delete env.KILN_TOKEN;
  const child = spawn(process.execPath, [KILN, 'secret', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const snapshot = async () => JSON.stringify([(await server.api('GET', '/api/secrets')).body, (await server.api('GET', '/api/repos/web/secrets')).body]);

describe('kiln secret', () => {
  it('sets a server secret from stdin with its scopes, dropping the newline echo adds', async () => {
    const set = await secret(['set', 'DEPLOY_KEY', '--branches', 'main,release/{1,2}.*', '--events', 'push,tag', '--environments', 'production'], `${VALUE}\n`);
    expect(set).toEqual({ code: 0, stdout: 'set DEPLOY_KEY of the server (branches main,release/{1,2}.*; events push,tag; environments production)\n', stderr: '' });
    expect((await server.api('GET', '/api/secrets')).body).toEqual([{
      name: 'DEPLOY_KEY', level: 'server', branches: ['main', 'release/{1,2}.*'], events: ['push', 'tag'], environments: ['production'], updated_at: expect.any(String),
    }]);
  });

  it('sets a repo secret, keeping a multi-line value whole, and replaces it (scopes too) when set again', async () => {
    const pem = `-----BEGIN KEY-----\n${VALUE}\n-----END KEY-----\n`;
    expect(await secret(['set', 'SSH_KEY', '--repo', 'web', '--events', 'push'], pem)).toMatchObject({ code: 0, stdout: 'set SSH_KEY of repo web (events push)\n' });
    // REPO NAME is NAME --repo REPO.
    expect(await secret(['set', 'web', 'SSH_KEY'], pem)).toMatchObject({ code: 0, stdout: 'set SSH_KEY of repo web (any branch, event and environment)\n' });
    expect(await secret(['set', 'NPM_TOKEN', '--repo', 'web', '--environments', 'stag*'], VALUE)).toMatchObject({ code: 0 });
    expect((await server.api('GET', '/api/repos/web/secrets/SSH_KEY')).body).toMatchObject({ events: null, level: 'repo' });
  });

  it('lists names, levels, scopes and times, never values', async () => {
    const server_ = await secret(['list']);
    expect(server_.code).toBe(0);
    expect(server_.stdout.split('\n')[0]).toMatch(/^NAME\s+LEVEL\s+BRANCHES\s+EVENTS\s+ENVIRONMENTS\s+UPDATED$/);
    expect(server_.stdout).toMatch(/^DEPLOY_KEY\s+server\s+main,release\/\{1,2\}\.\*\s+push,tag\s+production\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    const repo = await secret(['list', '--repo', 'web']);
    expect(repo.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
      ['NPM_TOKEN', 'repo', 'any', 'any', 'stag*'],
      ['SSH_KEY', 'repo', 'any', 'any', 'any'],
    ]);
    expect(server_.stdout + repo.stdout).not.toContain(VALUE);
  });

  it('deletes at either level, and says so when there is nothing to delete', async () => {
    expect(await secret(['delete', 'NPM_TOKEN', '--repo', 'web'])).toEqual({ code: 0, stdout: 'deleted NPM_TOKEN of repo web\n', stderr: '' });
    expect(await secret(['delete', 'NPM_TOKEN', '--repo', 'web'])).toEqual({ code: 1, stdout: '', stderr: 'kiln: 404: no secret NPM_TOKEN\n' });
    expect((await server.api('GET', '/api/repos/web/secrets')).body).toEqual(['SSH_KEY']);
    expect(await secret(['set', 'GONE', '--events', 'cron'], VALUE)).toMatchObject({ code: 0 });
    expect(await secret(['delete', 'GONE'])).toMatchObject({ code: 0, stdout: 'deleted GONE of the server\n' });
    expect(await secret(['list'])).toMatchObject({ stdout: expect.not.stringContaining('GONE') });
  });

  it('refuses bad input in one line and changes nothing', async () => {
    const before = await snapshot();
    const cases: Array<[string[], string, number, string]> = [
      [['set', 'EMPTY'], '', 2, 'kiln: secret set: the value of EMPTY is empty; pipe it in (printf %s "$VALUE" | kiln secret set EMPTY) or type it at a terminal\n'],
      [['set', 'EMPTY'], '\n', 2, expect.stringContaining('is empty') as unknown as string],
      [['set', 'DEPLOY_KEY', VALUE], VALUE, 2, 'kiln: secret set: no repo named "DEPLOY_KEY"; give one NAME (the value comes from stdin, never an argument), or REPO NAME\n'],
      [['set', 'web', 'DEPLOY_KEY', VALUE], VALUE, 2, 'kiln: secret set: give exactly one NAME (the value comes from stdin, never an argument)\n'],
      [['set', 'bad-name'], VALUE, 2, 'kiln: secret set: a secret name is letters, digits and _ (got "bad-name")\n'],
      [['set'], VALUE, 2, 'kiln: secret set: give exactly one NAME\n'],
      [['rotate', 'X'], VALUE, 2, 'kiln: secret: unknown action "rotate" (set, list or delete)\n'],
      [[], '', 2, 'kiln: secret: say set, list or delete (see --help)\n'],
      [['set', 'X', '--value', VALUE], VALUE, 2, expect.stringMatching(/^kiln: secret: unknown option '--value'\n\nUsage: kiln secret /) as unknown as string],
      [['set', 'DEPLOY_KEY', '--events', 'merge'], VALUE, 1, 'kiln: 400: events.0: an event is push, tag, pull_request, cron, manual or api\n'],
      [['set', 'DEPLOY_KEY', '--branches', ''], VALUE, 1, 'kiln: 400: branches: give at least one branch glob, or leave the key out for any\n'],
      [['set', 'DEPLOY_KEY'], 'short', 1, 'kiln: 400: value: a secret value has at least 6 characters (a shorter one would mask ordinary text in every log)\n'],
      [['set', 'DEPLOY_KEY', '--repo', 'nope'], VALUE, 1, 'kiln: 404: no repo named nope\n'],
      [['list', 'DEPLOY_KEY'], '', 2, 'kiln: secret list takes no NAME (see --help)\n'],
      [['delete', 'DEPLOY_KEY', '--events', 'push'], '', 2, 'kiln: secret delete: --branches, --events and --environments are for set\n'],
    ];
    for (const [args, stdin, code, stderr] of cases) {
      expect(await secret(args, stdin), args.join(' ')).toEqual({ code, stdout: '', stderr });
    }
    expect(await snapshot()).toBe(before);
  });

  it('needs the admin token: none and the agent token are refused', async () => {
    const before = await snapshot();
    expect(await secret(['set', 'DEPLOY_KEY'], VALUE, null)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^kiln: 401: .*\(set KILN_TOKEN to the admin token\)\n$/) });
    expect(await secret(['list'], '', AGENT_TOKEN)).toMatchObject({ code: 1, stderr: 'kiln: 403: agent token may not do this: that needs a server admin\n' });
    expect(await secret(['set', 'DEPLOY_KEY', '--token', ADMIN_TOKEN], `${VALUE}-new`, AGENT_TOKEN)).toMatchObject({ code: 0 });
    expect(await snapshot()).not.toBe(before);
    expect(server.output()).not.toContain(VALUE);
  });
});
