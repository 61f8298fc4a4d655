// End to end, with a real server and agent: secrets reach only the jobs their scopes allow
// (branch, environment), the repo's value wins over the server's, and a refused secret fails
// its job at start with a line naming it. Steps compare a digest of the value, never print it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const SERVER_VALUE = 'server-level-deploy-key-4f1a';
const REPO_VALUE = 'repo-level-deploy-key-9c2e';
const STAGING_VALUE = 'staging-only-key-77d0';
const digest = (value: string) => createHash('sha256').update(value).digest('hex');

/** Jobs that each check the secret they name against the digest in $WANT_<NAME>. */
const pipeline = (want: { deploy: string; env: string }) => `
env:
  WANT_DEPLOY: ${want.deploy}
  WANT_ENV: ${want.env}
jobs:
  deploy:
    secrets: [DEPLOY_KEY]
    steps: [{ run: 'test "$(printf %s "$DEPLOY_KEY" | sha256sum | cut -d" " -f1)" = "$WANT_DEPLOY" && echo deploy key matches' }]
  staging:
    environment: staging
    secrets: [ENV_KEY]
    steps: [{ run: 'test "$(printf %s "$ENV_KEY" | sha256sum | cut -d" " -f1)" = "$WANT_ENV" && echo env key matches' }]
  production:
    environment: production
    secrets: [ENV_KEY]
    steps: [{ run: 'echo must not run' }]
  missing:
    secrets: [NOT_DEFINED_ANYWHERE]
    steps: [{ run: 'test -z "\${NOT_DEFINED_ANYWHERE:-}" && echo unset as before' }]
`;

let repo: TestRepo;
let server: ServerProcess;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({ repos: { web: repo.path } });
  expect((await server.api('PUT', '/api/secrets/DEPLOY_KEY', { value: SERVER_VALUE, branches: ['main'] })).status).toBe(200);
  expect((await server.api('PUT', '/api/repos/web/secrets/ENV_KEY', { value: STAGING_VALUE, environments: ['stag*'] })).status).toBe(200);
  await startAgent(server);
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

async function ended(sha: string) {
  const run = await runEnded(server, (await runOfCommit(server, 'web', sha)).id);
  const byName = Object.fromEntries(run.jobs.map((j: { name: string }) => [j.name, j]));
  return { run, byName };
}

function expectNoValues(text: string) {
  for (const value of [SERVER_VALUE, REPO_VALUE, STAGING_VALUE]) expect(text).not.toContain(value);
}

describe('secret scopes', () => {
  it('give a main run the server secret scoped to main and the staging secret to the staging job only; production fails at start', async () => {
    const sha = await repo.commit({ 'pipeline.yml': pipeline({ deploy: digest(SERVER_VALUE), env: digest(STAGING_VALUE) }) });
    const { run, byName } = await ended(sha);
    expect(byName.deploy).toMatchObject({ status: 'success' });
    expect(byName.staging).toMatchObject({ status: 'success' });
    expect(byName.missing).toMatchObject({ status: 'success' });
    expect(byName.production).toMatchObject({ status: 'failed', reason: 'secret ENV_KEY is not available to environment production', exit_code: null });
    expect(byName.production.steps.map((s: { status: string }) => s.status)).not.toContain('success');
    expect(run.status).toBe('failed');
    expect(await jobLog(server, byName.production.id)).toEqual([expect.stringContaining('secret ENV_KEY is not available to environment production')]);
    expect((await jobLog(server, byName.deploy.id)).join('\n')).toContain('deploy key matches');
    expect((await jobLog(server, byName.missing.id)).join('\n')).toContain('unset as before');
  });

  it('refuse the main-scoped secret to a run on feature/x, naming it and not its value', async () => {
    await repo.git('checkout', '--quiet', '-b', 'feature/x');
    const sha = await repo.commit({ 'pipeline.yml': pipeline({ deploy: digest(SERVER_VALUE), env: digest(STAGING_VALUE) }) });
    const { run, byName } = await ended(sha);
    expect(run.branch).toBe('feature/x');
    expect(byName.deploy).toMatchObject({ status: 'failed', reason: 'secret DEPLOY_KEY is not available to branch feature/x' });
    expect(await jobLog(server, byName.deploy.id)).toEqual([expect.stringContaining('secret DEPLOY_KEY is not available to branch feature/x')]);
    expect(byName.staging).toMatchObject({ status: 'success' }); // no branches scope on ENV_KEY
    expectNoValues(JSON.stringify(run) + (await jobLog(server, byName.deploy.id)).join('\n'));
  });

  it("use the repo's value over the server's when both exist, with the repo's scopes", async () => {
    expect((await server.api('PUT', '/api/repos/web/secrets/DEPLOY_KEY', { value: REPO_VALUE })).status).toBe(200);
    const sha = await repo.commit({ 'pipeline.yml': pipeline({ deploy: digest(REPO_VALUE), env: digest(STAGING_VALUE) }) });
    const { byName } = await ended(sha);
    expect(byName.deploy).toMatchObject({ status: 'success' }); // on feature/x: the repo's has no scope
    await repo.git('checkout', '--quiet', 'main');
    const again = await ended(await repo.commit({ 'pipeline.yml': pipeline({ deploy: digest(REPO_VALUE), env: digest(STAGING_VALUE) }) }));
    expect(again.byName.deploy).toMatchObject({ status: 'success' });

    // Deleted at the repo: the server's is used again, on main only.
    expect((await server.api('DELETE', '/api/repos/web/secrets/DEPLOY_KEY')).status).toBe(204);
    const back = await ended(await repo.commit({ 'pipeline.yml': pipeline({ deploy: digest(SERVER_VALUE), env: digest(STAGING_VALUE) }) }));
    expect(back.byName.deploy).toMatchObject({ status: 'success' });
  });

  it("leave no value in the API's answers or the server's own log", async () => {
    const answers = await Promise.all(['/api/secrets', '/api/repos/web/secrets', '/api/repos/web/secrets/ENV_KEY', '/api/repos/web/runs'].map((p) => server.api('GET', p)));
    expect(answers[0]!.body).toEqual([expect.objectContaining({ name: 'DEPLOY_KEY', level: 'server', branches: ['main'], events: null, environments: null })]);
    expect(answers[2]!.body).toMatchObject({ name: 'ENV_KEY', level: 'repo', environments: ['stag*'] });
    expectNoValues(JSON.stringify(answers.map((a) => a.body)));
    expectNoValues(server.output());
  });

  it('refuse a branch-scoped secret to a tag run (it has no branch), and give it one scoped to the tag event', async () => {
    expect((await server.api('PUT', '/api/secrets/RELEASE_KEY', { value: REPO_VALUE, events: ['tag'] })).status).toBe(200);
    const sha = await repo.commit({
      'pipeline.yml': `on:\n  push: {}\n  tags: ["v*"]\njobs:\n  deploy:\n    secrets: [DEPLOY_KEY]\n    steps: [{ run: 'echo must not run' }]\n`
        + `  release:\n    secrets: [RELEASE_KEY]\n    steps: [{ run: 'test "$(printf %s "$RELEASE_KEY" | sha256sum | cut -d" " -f1)" = ${digest(REPO_VALUE)}' }]\n`,
    });
    const push = await ended(sha);
    expect(push.byName.release).toMatchObject({ status: 'failed', reason: 'secret RELEASE_KEY is not available to event push' });
    expect(push.byName.deploy).toMatchObject({ status: 'success' }); // main
    await repo.git('tag', 'v1.0.0');
    const tagRun = await eventually(async () => (await server.api('GET', '/api/repos/web/runs')).body.find((r: { event: string }) => r.event === 'tag'), 5000, 'the tag run');
    const run = await runEnded(server, tagRun.id);
    const byName = Object.fromEntries(run.jobs.map((j: { name: string }) => [j.name, j]));
    expect(byName.deploy).toMatchObject({ status: 'failed', reason: 'secret DEPLOY_KEY is not available to tag v1.0.0' });
    expect(byName.release).toMatchObject({ status: 'success' });
  });
});
