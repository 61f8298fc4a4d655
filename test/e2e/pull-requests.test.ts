// End to end: pull-request runs and `[skip ci]`. A real git server on loopback is the forge's
// git side (its pull-request refs pushed there as a forge makes them), a real kiln server gets
// deliveries signed as each forge signs them, and a real agent runs the jobs, whose log shows
// what reached them.
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { eventually, jobLog, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const TOKEN = 'remote-token-0123456789';
const SECRET = 'hook-secret-0123456789';
const DEPLOY_KEY = 'deploy-key-value-42';
const PIPELINE = `on:
  push: {}
  tags: true
  pull_request: { branches: [main] }
jobs:
  show:
    secrets: [DEPLOY_KEY]
    steps:
      - run: echo "event=$KILN_EVENT branch=$KILN_BRANCH pr=$KILN_PR_NUMBER from=$KILN_PR_SOURCE_BRANCH to=$KILN_PR_TARGET_BRANCH key=\${DEPLOY_KEY:-none}"
`;
let remote: GitServer;
let work: TestRepo;
let server: ServerProcess;

const mirrorRefs = async (): Promise<string[]> => (await git(join(server.dataDir, 'mirrors', 'web.git'), 'for-each-ref', '--format=%(refname)')).split('\n').filter(Boolean);
const pushTo = (repo: string, ...refspecs: string[]) =>
  git(work.path, 'push', '--quiet', '--force', `http://x:${TOKEN}@${remote.url(repo).slice('http://'.length)}`, ...refspecs);

beforeAll(async () => {
  await isolateGit();
  remote = await startGitServer({ root: await makeTempDir('kiln-remote-'), token: TOKEN });
  remote.createRepo('team/web');
  remote.createRepo('sam/web'); // a fork, for Bitbucket (which has no pull-request refs)
  work = await createRepo();
  await work.commit({ 'pipeline.yml': PIPELINE });
  await pushTo('team/web', 'HEAD:refs/heads/main');
  server = await startServer();
  expect((await server.api('POST', '/api/repos', { name: 'web', url: remote.url('team/web'), webhook_secret: SECRET, credentials: { token: TOKEN } })).status).toBe(201);
  expect((await server.api('PUT', '/api/repos/web/secrets/DEPLOY_KEY', { value: DEPLOY_KEY })).status).toBe(200);
  await startAgent(server);
});
afterAll(async () => {
  await killAll();
  await remote.close();
  await removeTempDirs();
});

const hmac = (body: string) => createHmac('sha256', SECRET).update(body).digest('hex');

/** The headers each forge sends with a pull-request delivery, signed as it signs them. */
function signed(forge: 'github' | 'gitlab' | 'gitea' | 'bitbucket', body: string, event?: string): Record<string, string> {
  const id = randomUUID();
  switch (forge) {
    case 'github': return { 'x-github-event': event ?? 'pull_request', 'x-github-delivery': id, 'x-hub-signature-256': `sha256=${hmac(body)}` };
    case 'gitlab': return { 'x-gitlab-event': event ?? 'Merge Request Hook', 'x-gitlab-event-uuid': id, 'x-gitlab-token': SECRET };
    case 'gitea': return { 'x-gitea-event': event ?? 'pull_request', 'x-gitea-delivery': id, 'x-gitea-signature': hmac(body) };
    case 'bitbucket': return { 'x-event-key': event ?? 'pullrequest:created', 'x-request-uuid': id, 'x-hub-signature': `sha256=${hmac(body)}` };
  }
}

interface Pr { number: number; source: string; target?: string; sha: string; fork?: boolean; action?: string }

/** A pull-request payload as each forge documents it (the fields kiln reads, and some it does not). */
function payload(forge: 'github' | 'gitlab' | 'gitea' | 'bitbucket', pr: Pr): unknown {
  const target = pr.target ?? 'main';
  switch (forge) {
    case 'github': return {
      action: pr.action ?? 'opened', number: pr.number,
      pull_request: { title: 'A change', head: { ref: pr.source, sha: pr.sha, repo: { full_name: pr.fork ? 'sam/web' : 'team/web' } }, base: { ref: target, repo: { full_name: 'team/web' } } },
    };
    case 'gitlab': return {
      object_kind: 'merge_request',
      object_attributes: { iid: pr.number, action: pr.action ?? 'open', source_branch: pr.source, target_branch: target, source_project_id: pr.fork ? 99 : 1, target_project_id: 1, last_commit: { id: pr.sha } },
    };
    case 'gitea': return {
      action: pr.action ?? 'opened', number: pr.number,
      pull_request: { head: { ref: pr.source, sha: pr.sha, repo_id: pr.fork ? 99 : 1 }, base: { ref: target, repo_id: 1 } },
    };
    case 'bitbucket': return {
      pullrequest: {
        id: pr.number,
        source: { branch: { name: pr.source }, commit: { hash: pr.sha.slice(0, 12) }, repository: { full_name: pr.fork ? 'sam/web' : 'team/web' } },
        destination: { branch: { name: target }, repository: { full_name: 'team/web' } },
      },
    };
  }
}

async function deliver(headers: Record<string, string>, body: string): Promise<number> {
  const response = await fetch(`${server.url}/hooks/web`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  expect(response.status).toBe(202);
  return ((await response.json()) as { delivery: number }).delivery;
}

/** The delivery once it is no longer `accepted`. */
const delivery = (id: number) => eventually(async () => {
  const found = ((await server.api('GET', '/api/repos/web/hooks?limit=500')).body as Array<{ id: number; status: string; result: string; run_ids: number[] }>).find((d) => d.id === id);
  return found && found.status !== 'accepted' ? found : null;
}, 20_000, `delivery ${id} handled`);

const runs = async () => (await server.api('GET', '/api/repos/web/runs?limit=500')).body as Array<{ id: number; sha: string; event: string }>;

/** The one line the job printed, from the run's log. */
async function shown(runId: number): Promise<string> {
  const run = await runEnded(server, runId);
  expect(run.status).toBe('success');
  return (await jobLog(server, run.jobs[0].id)).find((l) => l.startsWith('event=')) ?? '(no line)';
}

/** A new commit on a branch made from main, pushed to `refs` of `repo`. */
async function commitOn(branch: string, file: string, message?: string): Promise<string> {
  await work.git('checkout', '--quiet', '-B', branch, 'main');
  const sha = await work.commit({ [file]: `${file}\n` }, message);
  await work.git('checkout', '--quiet', 'main');
  return sha;
}

describe('pull-request runs', () => {
  const refOf = { github: (n: number) => `refs/pull/${n}/head`, gitea: (n: number) => `refs/pull/${n}/head`, gitlab: (n: number) => `refs/merge-requests/${n}/head` } as const;

  for (const [forge, number] of [['github', 3], ['gitlab', 7], ['gitea', 5]] as const) {
    it(`${forge}: an opened pull request runs on its head, fetched from ${refOf[forge](number)}, with KILN_PR_* and the repo's secrets`, async () => {
      const sha = await commitOn(`feature-${forge}`, `${forge}.txt`);
      // As the forge does: the source branch, and the pull-request ref it keeps for it.
      await pushTo('team/web', `${sha}:refs/heads/feature-${forge}`, `${sha}:${refOf[forge](number)}`);
      const body = JSON.stringify(payload(forge, { number, source: `feature-${forge}`, sha }));
      const done = await delivery(await deliver(signed(forge, body), body));
      expect(done).toMatchObject({ status: 'done', run_ids: [expect.any(Number)], result: expect.stringMatching(new RegExp(`^pull request #${number}: run #\\d+$`)) });
      const run = (await server.api('GET', `/api/runs/${done.run_ids[0]}`)).body;
      expect(run).toMatchObject({
        event: 'pull_request', sha, branch: `feature-${forge}`, ref: refOf[forge](number),
        pull_request: { number, source_branch: `feature-${forge}`, target_branch: 'main', fork: false },
      });
      expect(await shown(run.id)).toBe(`event=pull_request branch=feature-${forge} pr=${number} from=feature-${forge} to=main key=***`);
      const page = await (await fetch(`${server.url}/runs/${run.id}`)).text();
      expect(page).toContain(`pull request #${number}: feature-${forge} → main`);
      // A pull request's run is not its branch's last run (nor its badge).
      expect(Object.keys((await server.api('GET', '/api/repos/web')).body.branches)).not.toContain(`feature-${forge}`);
    });
  }

  it('from the repo itself, whose forge ref is not there (yet), runs on its source branch\'s head if that is the payload\'s', async () => {
    const sha = await commitOn('no-pr-ref', 'no-pr-ref.txt');
    await pushTo('team/web', `${sha}:refs/heads/no-pr-ref`);
    const body = JSON.stringify(payload('github', { number: 50, source: 'no-pr-ref', sha }));
    const done = await delivery(await deliver(signed('github', body), body));
    expect(done).toMatchObject({ status: 'done', result: expect.stringMatching(/^pull request #50: run #\d+$/) });
    const run = (await server.api('GET', `/api/runs/${done.run_ids[0]}`)).body;
    expect(run).toMatchObject({ sha, ref: 'refs/heads/no-pr-ref', pull_request: { number: 50, fork: false } });
    expect(await shown(run.id)).toBe('event=pull_request branch=no-pr-ref pr=50 from=no-pr-ref to=main key=***');
  });

  it('bitbucket: a pull request from the same repo runs on its source branch\'s head', async () => {
    const sha = await commitOn('feature-bb', 'bb.txt');
    await pushTo('team/web', `${sha}:refs/heads/feature-bb`);
    const body = JSON.stringify(payload('bitbucket', { number: 11, source: 'feature-bb', sha }));
    const done = await delivery(await deliver(signed('bitbucket', body), body));
    expect(done).toMatchObject({ status: 'done', result: expect.stringMatching(/^pull request #11: run #\d+$/) });
    const run = (await server.api('GET', `/api/runs/${done.run_ids[0]}`)).body;
    expect(run).toMatchObject({ sha, ref: 'refs/heads/feature-bb', pull_request: { number: 11, fork: false } });
    expect(await shown(run.id)).toBe('event=pull_request branch=feature-bb pr=11 from=feature-bb to=main key=***');
  });

  it('from a fork gets no secrets: GitHub through refs/pull/N/head, Bitbucket from the fork\'s own clone URL', async () => {
    const sha = await commitOn('forked', 'fork.txt');
    await pushTo('team/web', `${sha}:refs/pull/8/head`); // GitHub keeps a fork's head in the target repo
    const gh = JSON.stringify(payload('github', { number: 8, source: 'forked', sha, fork: true }));
    const ghDone = await delivery(await deliver(signed('github', gh), gh));
    expect(ghDone.status).toBe('done');
    const ghRun = (await server.api('GET', `/api/runs/${ghDone.run_ids[0]}`)).body;
    expect(ghRun.pull_request).toEqual({ number: 8, source_branch: 'forked', target_branch: 'main', fork: true });
    expect(await shown(ghRun.id)).toBe('event=pull_request branch=forked pr=8 from=forked to=main key=none');
    // A re-run of it (attempt 2 of the same run) gets none either.
    const rerun = await server.api('POST', `/api/runs/${ghRun.id}/rerun`, {});
    expect(rerun).toMatchObject({ status: 200, body: { id: ghRun.id, attempt: 2 } });
    expect(await shown(ghRun.id)).toBe('event=pull_request branch=forked pr=8 from=forked to=main key=none');

    const bbSha = await commitOn('forked-bb', 'fork-bb.txt');
    await pushTo('sam/web', `${bbSha}:refs/heads/forked-bb`); // only the fork has it
    const bb = JSON.stringify(payload('bitbucket', { number: 12, source: 'forked-bb', sha: bbSha, fork: true }));
    const bbDone = await delivery(await deliver(signed('bitbucket', bb), bb));
    expect(bbDone.status).toBe('done');
    const bbRun = (await server.api('GET', `/api/runs/${bbDone.run_ids[0]}`)).body;
    expect(bbRun).toMatchObject({ sha: bbSha, pull_request: { number: 12, fork: true } });
    expect(await shown(bbRun.id)).toBe('event=pull_request branch=forked-bb pr=12 from=forked-bb to=main key=none');
    expect(remote.requests.some((r) => r.path.startsWith('/sam/web.git/'))).toBe(true);
  });

  it('from a fork runs only when the target branch\'s own pipeline takes pull requests, whatever the fork\'s pipeline.yml says', async () => {
    // `legacy` builds pushes only; kiln learns of it from its push hook.
    await work.git('checkout', '--quiet', '-B', 'legacy', 'main');
    const legacy = await work.commit({ 'pipeline.yml': PIPELINE.replace('  pull_request: { branches: [main] }\n', '') });
    await pushTo('team/web', `${legacy}:refs/heads/legacy`);
    const push = JSON.stringify({ ref: 'refs/heads/legacy', before: '0'.repeat(40), after: legacy, repository: { full_name: 'team/web' } });
    expect((await delivery(await deliver(signed('github', push, 'push'), push))).status).toBe('done');
    // The pull request's head asks for pull-request runs to any branch.
    const head = await work.commit({ 'pipeline.yml': PIPELINE.replace('pull_request: { branches: [main] }', 'pull_request: {}') });
    await work.git('checkout', '--quiet', 'main');
    await pushTo('team/web', `${head}:refs/pull/40/head`, `${head}:refs/pull/41/head`);
    const send = async (pr: Pr) => {
      const body = JSON.stringify(payload('github', pr));
      return delivery(await deliver(signed('github', body), body));
    };
    expect(await send({ number: 40, source: 'sneaky', target: 'legacy', sha: head, fork: true })).toMatchObject({
      status: 'done', run_ids: [], result: 'pull request #40 from a fork: the pipeline of legacy does not take pull requests to it: nothing started',
    });
    // From the repo itself, its head's pipeline decides, as for a push.
    const own = await send({ number: 41, source: 'legacy-change', target: 'legacy', sha: head });
    expect(own.run_ids).toHaveLength(1);
    await runEnded(server, own.run_ids[0]!);
  });

  it('with on.pull_request.paths runs only when the pull request changes a matching file, counted from the merge base', async () => {
    const paths = PIPELINE.replace('pull_request: { branches: [main] }', 'pull_request: { branches: [main], paths: ["src/**"] }');
    await work.git('checkout', '--quiet', '-B', 'docs-only', 'main');
    const docs = await work.commit({ 'pipeline.yml': paths, 'docs/a.md': 'a\n' });
    await work.git('checkout', '--quiet', '-B', 'with-src', 'main');
    await work.commit({ 'pipeline.yml': paths, 'src/a.ts': 'export {};\n' });
    const src = await work.commit({ 'docs/b.md': 'b\n' });
    await work.git('checkout', '--quiet', 'main');
    await pushTo('team/web', `${docs}:refs/pull/60/head`, `${src}:refs/pull/61/head`);
    const send = async (pr: Pr) => {
      const body = JSON.stringify(payload('gitea', pr));
      return delivery(await deliver(signed('gitea', body), body));
    };
    expect(await send({ number: 60, source: 'docs-only', sha: docs })).toMatchObject({ run_ids: [], result: expect.stringContaining('no run') });
    // The src change is in the head's parent, not the head: the whole pull request counts.
    const built = await send({ number: 61, source: 'with-src', sha: src, action: 'synchronized' });
    expect(built.run_ids).toHaveLength(1);
    await runEnded(server, built.run_ids[0]!);
  });

  it('starts nothing for a forged head sha, a ref the remote lacks, a closed one, a target on: does not name, or a redelivered head', async () => {
    const sha = await commitOn('feature-x', 'x.txt');
    await pushTo('team/web', `${sha}:refs/pull/20/head`);
    const before = (await runs()).length;
    const send = async (forge: 'github' | 'gitlab', pr: Pr) => {
      const body = JSON.stringify(payload(forge, pr));
      return delivery(await deliver(signed(forge, body), body));
    };
    const forged = 'deadbeef'.repeat(5);
    expect(await send('github', { number: 20, source: 'feature-x', sha: forged })).toMatchObject({
      status: 'done', run_ids: [], result: `pull request #20 at deadbeefdead is not on the remote (refs/pull/20/head is at ${sha.slice(0, 12)}, no refs/heads/feature-x): nothing started`,
    });
    expect(await send('github', { number: 21, source: 'feature-y', sha })).toMatchObject({
      run_ids: [], result: `pull request #21 at ${sha.slice(0, 12)} is not on the remote (no refs/pull/21/head, no refs/heads/feature-y): nothing started`,
    });
    // A fork's head is never looked for on a branch of the repo that happens to have its name.
    await pushTo('team/web', `${sha}:refs/heads/feature-z`);
    expect(await send('github', { number: 22, source: 'feature-z', sha, fork: true })).toMatchObject({
      run_ids: [], result: `pull request #22 at ${sha.slice(0, 12)} is not on the remote (no refs/pull/22/head): nothing started`,
    });
    expect(await mirrorRefs()).toContain('refs/kiln/pull/20/head'); // fetched for the forged delivery above
    expect(await send('github', { number: 20, source: 'feature-x', sha, action: 'closed' })).toMatchObject({ status: 'ignored', result: 'pull request #20 closed: nothing to build' });
    // Closing it forgets its head: the mirror would keep its commits for good.
    expect(await mirrorRefs()).not.toContain('refs/kiln/pull/20/head');
    expect(await send('github', { number: 20, source: 'feature-x', sha, target: 'develop' })).toMatchObject({
      run_ids: [], result: expect.stringContaining("no run (the pipeline's on: does not take pull requests to develop"),
    });
    const built = await send('github', { number: 20, source: 'feature-x', sha });
    expect(built.run_ids).toHaveLength(1);
    expect(await send('github', { number: 20, source: 'feature-x', sha, action: 'synchronize' })).toMatchObject({ run_ids: [], result: expect.stringMatching(/already built by run #\d+/) });
    expect((await runs()).length).toBe(before + 1);
    await runEnded(server, built.run_ids[0]!);
  });
});

describe('[skip ci]', () => {
  const githubPush = (ref: string, after: string) => JSON.stringify({ ref, before: '0'.repeat(40), after, repository: { full_name: 'team/web' } });

  it('in the body of a pushed commit skips its push run and says so; a tag of that commit still runs', async () => {
    const sha = await work.commit({ 'docs.md': 'only docs\n' }, 'Docs only\n\nNothing to build here. [SKIP CI]');
    await pushTo('team/web', 'HEAD:refs/heads/main');
    const body = githubPush('refs/heads/main', sha);
    expect(await delivery(await deliver(signed('github', body, 'push'), body))).toMatchObject({
      status: 'done', run_ids: [], result: `refs/heads/main at ${sha.slice(0, 12)}: skipped, the commit message says [SKIP CI]`,
    });
    await work.git('tag', 'v1.0.0', sha);
    await pushTo('team/web', 'refs/tags/v1.0.0');
    const tag = githubPush('refs/tags/v1.0.0', sha);
    const tagged = await delivery(await deliver(signed('github', tag, 'push'), tag));
    expect(tagged).toMatchObject({ status: 'done', run_ids: [expect.any(Number)] });
    expect((await server.api('GET', `/api/runs/${tagged.run_ids[0]}`)).body).toMatchObject({ event: 'tag', sha, tag: 'v1.0.0' });
    expect((await runs()).filter((r) => r.sha === sha).map((r) => r.event)).toEqual(['tag']);
    // A manual run of it is not skipped either.
    const manual = await server.api('POST', '/api/repos/web/runs', { ref: 'main' });
    expect(manual.body).toMatchObject({ status: expect.any(String), sha, event: 'api' });
    await runEnded(server, manual.body.id);
  });

  it('in a pull request\'s head skips its run', async () => {
    const sha = await commitOn('wip', 'wip.txt', 'WIP [ci skip]');
    await pushTo('team/web', `${sha}:refs/merge-requests/30/head`);
    const body = JSON.stringify(payload('gitlab', { number: 30, source: 'wip', sha }));
    expect(await delivery(await deliver(signed('gitlab', body), body))).toMatchObject({
      status: 'done', run_ids: [], result: `pull request #30 at ${sha.slice(0, 12)}: skipped, the commit message says [ci skip]`,
    });
  });

  it('skips what a poll finds too', async () => {
    expect((await server.api('POST', '/api/repos', { name: 'polled', url: remote.url('team/web'), poll: '1s', credentials: { token: TOKEN } })).status).toBe(201);
    const quiet = await commitOn('a-quiet', 'quiet.txt', 'Tidy [no ci]');
    const loud = await commitOn('b-loud', 'loud.txt', 'A change');
    await pushTo('team/web', `${quiet}:refs/heads/a-quiet`, `${loud}:refs/heads/b-loud`);
    // One push, so one fetch finds both, and its refs are taken in name order: once b-loud has
    // its run, a-quiet has been handled.
    const polledRuns = () => server.api('GET', '/api/repos/polled/runs?limit=500').then((r) => r.body as Array<{ sha: string; branch: string }>);
    await eventually(async () => (await polledRuns()).find((r) => r.sha === loud), 15_000, 'the run of b-loud');
    expect((await polledRuns()).filter((r) => r.branch === 'a-quiet')).toEqual([]);
  });
});
