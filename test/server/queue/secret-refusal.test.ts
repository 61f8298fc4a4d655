// The job queue with scoped secrets, on a real SQLite store: a job whose named secret a scope
// refuses ends failed at its claim, with the reason as its one log line, no retry spent and no
// frame sent; the agent's slot goes to the next job in the same pass.
import { describe, expect, it } from 'vitest';
import { jobSecretValues } from '../../../server/queue/assignment.js';
import { newRun, plan, plannedJob } from '../store/fixtures.js';
import { queueFixture } from './queue-fixture.js';

const VALUE = 'deploy-key-value-123';

describe('a scope-refused secret', () => {
  it('fails the job at start without an agent running it, and the next job takes the slot', () => {
    const fx = queueFixture();
    fx.store.secrets.setServerSecret('DEPLOY_KEY', VALUE, { branches: ['main'], events: null, environments: null });
    const run = fx.store.runs.createRun(newRun(fx.repo.id, {
      ref: 'refs/heads/feature/x', branch: 'feature/x',
      plan: plan(plannedJob('deploy', { secrets: ['DEPLOY_KEY'], retry: 2 }), plannedJob('test')),
    }));
    fx.queue.runChanged(run.id);
    const a = fx.agent('a');
    expect(a.link.jobs().map((j) => j.job.name)).toEqual(['test']);
    const deploy = fx.job(run.id, 'deploy');
    expect(deploy).toMatchObject({ status: 'failed', reason: 'secret DEPLOY_KEY is not available to branch feature/x', attempt: 1, exitCode: null, retriesLeft: 2 });
    expect(fx.logText(deploy.id)).toBe('secret DEPLOY_KEY is not available to branch feature/x\n');
    const published = JSON.stringify(fx.events);
    expect(published).toContain('secret DEPLOY_KEY is not available to branch feature/x');
    expect(published).not.toContain(VALUE);
    fx.done(a.link, a.link.jobs()[0]!);
    expect(fx.store.runs.getRunSummary(run.id)!.status).toBe('failed');
  });

  it('gives a main run the secret, and the repo-level value over the server-level one', () => {
    const fx = queueFixture();
    fx.store.secrets.setServerSecret('DEPLOY_KEY', VALUE, { branches: ['main'], events: null, environments: null });
    fx.store.secrets.setServerSecret('NPM_TOKEN', 'server-npm-token');
    fx.store.secrets.setSecret(fx.repo.id, 'NPM_TOKEN', 'repo-npm-token');
    fx.run(plannedJob('deploy', { secrets: ['DEPLOY_KEY', 'NPM_TOKEN', 'UNKNOWN'] }));
    const [assignment] = fx.agent('a').link.jobs();
    expect(assignment!.env).toMatchObject({ DEPLOY_KEY: VALUE, NPM_TOKEN: 'repo-npm-token' });
    expect(assignment!.env).not.toHaveProperty('UNKNOWN');
    expect(assignment!.secrets.sort()).toEqual([VALUE, 'repo-npm-token'].sort());
  });

  it('gives a fork pull request no secrets and no refusal', () => {
    const fx = queueFixture();
    fx.store.secrets.setServerSecret('DEPLOY_KEY', VALUE, { branches: ['main'], events: ['push'], environments: null });
    const run = fx.store.runs.createRun(newRun(fx.repo.id, {
      event: 'pull_request', ref: 'refs/pull/3/head', branch: 'feature/x',
      pullRequest: { number: 3, sourceBranch: 'feature/x', targetBranch: 'main', fromFork: true },
      plan: plan(plannedJob('deploy', { secrets: ['DEPLOY_KEY'] })),
    }));
    fx.queue.runChanged(run.id);
    const [assignment] = fx.agent('a').link.jobs();
    expect(assignment!.env).not.toHaveProperty('DEPLOY_KEY');
    expect(fx.job(run.id, 'deploy')).toMatchObject({ status: 'running' });
  });

  it("masks a server-level secret in the server's pass, also when its values are read again from the store", () => {
    const fx = queueFixture();
    fx.store.secrets.setServerSecret('DEPLOY_KEY', VALUE, { branches: ['main'], events: null, environments: null });
    fx.run(plannedJob('deploy', { secrets: ['DEPLOY_KEY'] }));
    const agent = fx.agent('a');
    const a = agent.link.jobs()[0]!;
    fx.log(agent.link, a, 0, `in clear ${VALUE}`);
    expect(fx.logText(a.jobId)).toBe('in clear ***\n');
    expect(jobSecretValues(fx.store, a.jobId)).toEqual([VALUE]); // what a restarted server masks with
  });
});
