// The dashboard's pages (SPEC §6): each route gathers what its page in pages/ shows. A new page
// is a file in pages/ and a route here (add its path to READ_PATHS if it is a new prefix).
import { Hono, type Context } from 'hono';
import type { KilnService } from '../../service.js';
import { jobsAsOfAttempt, unexpired, type Store } from '../../store/index.js';
import type { DashboardAuth } from '../auth.js';
import { auditFilter } from '../../audit/query.js';
import { agentsPage } from '../pages/agents.js';
import { auditPage } from '../pages/audit.js';
import { environmentsPage, type Deployment } from '../pages/environments.js';
import { filePage } from '../pages/file.js';
import { homePage } from '../pages/home.js';
import { jobLogPage } from '../pages/job-log.js';
import { asPoolSummaries, poolsPage } from '../pages/pools.js';
import { queuePage } from '../pages/queue.js';
import { repoPage } from '../pages/repo.js';
import { formInputs } from '../pages/run-form.js';
import { runPage } from '../pages/run.js';
import { secretsPage } from '../pages/secrets.js';
import { usagePage } from '../pages/usage.js';
import { KilnError } from '../../../shared/errors.js';
import { parseUsageDays, poolBounds, readAgentUsage } from '../../usage/report.js';
import { forbiddenPage, notFoundPage, positiveId, type Render } from '../render.js';
import type { Sample } from '../samples.js';

/** What a private server guards: every page that reads (the login page and assets stay open). */
const READ_PATHS = ['/', '/repos/*', '/runs/*', '/agents', '/pools', '/queue', '/environments', '/secrets', '/usage'];

export interface PageRoutesOptions {
  store: Store;
  service: KilnService;
  auth: DashboardAuth;
  render: Render;
  samples(): Sample[];
  now: () => number;
}

export function createPageRoutes({ store, service, auth, render, samples, now }: PageRoutesOptions): Hono {
  const app = new Hono();
  for (const path of READ_PATHS) app.get(path, auth.readGuard);

  app.get('/', (c) => {
    const repos = store.repos.listRepos().map((repo) => ({ repo, lastRuns: store.runs.listLastRunsByBranch(repo.id) }));
    const error = c.req.query('error') ?? null;
    const add = auth.sessionOf(c)?.kind === 'admin'
      ? { viewer: auth.viewerOf(c), error, entered: error ? { name: c.req.query('name') ?? '', source: c.req.query('source') ?? '' } : null }
      : null;
    return render(c, homePage(repos, now(), add));
  });
  app.get('/repos/:repo', async (c) => {
    const repo = store.repos.getRepoByName(c.req.param('repo'));
    if (!repo) return render(c, notFoundPage(`no repo named ${c.req.param('repo')}`));
    const secrets = auth.sessionOf(c) !== null && auth.may(c, 'maintain', repo.name)
      ? [...store.secrets.listSecrets(repo.id), ...store.secrets.listServerSecrets()]
      : null;
    const error = c.req.query('error') ?? null;
    // After a refusal the form shows what was entered (sent back in the query), else the defaults.
    const entered = error === null ? null : { branch: c.req.query('branch') ?? repo.defaultBranch, inputs: formInputs(c.req.query()) };
    const runForm = { inputs: await service.runInputs(repo.name), entered, registered: c.req.query('registered') === '1' };
    return render(c, repoPage(repo, store.runs.listRuns(repo.id, { limit: 50 }), auth.viewerOf(c), now(), error, store.statuses.lastFailure(repo.id), secrets, runForm, store.notifications.lastFailure(repo.id)));
  });
  app.get('/repos/:repo/at/:sha/:path{.+}', async (c) => {
    const { repo, sha, path } = c.req.param();
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha) || !store.repos.getRepoByName(repo)) return render(c, notFoundPage(`no commit ${sha} in ${repo}`));
    const text = await service.fileAt(repo, sha, path);
    if (text === null) return render(c, notFoundPage(`no file ${path} at ${sha.slice(0, 12)} in ${repo}`));
    return render(c, filePage(repo, sha, path, text));
  });
  app.get('/runs/:id/jobs/:jobId', (c) => {
    const runId = positiveId(c.req.param('id'));
    const jobId = positiveId(c.req.param('jobId'));
    const run = runId === null ? null : store.runs.getRun(runId);
    const job = jobId === null ? null : store.jobs.getJobWithSteps(jobId);
    if (!run || !job || job.runId !== run.id) return render(c, notFoundPage(`no job ${c.req.param('jobId')} in run ${c.req.param('id')}`));
    const kept = store.attempts.listJobAttempts(run.id).filter((a) => a.jobId === job.id);
    const asked = positiveId(c.req.query('attempt') ?? '');
    const waitReason = service.waitReasons(run.id).get(job.id) ?? null;
    const removed = store.retention.removedLog(job.id);
    const logRemoved = removed && `This log was removed by the retention policy (${removed.policy}) on ${new Date(removed.removedAt).toISOString()}.`;
    return render(c, jobLogPage(job, run, auth.viewerOf(c), now(), unexpired(store.artifacts.listJobArtifacts(job.id), now()), { asked, kept }, waitReason, logRemoved));
  });
  // The job page's wait reason alone (text; empty once the job no longer waits), for /assets/wait-reason.js.
  app.get('/runs/:id/jobs/:jobId/wait', (c) => {
    const runId = positiveId(c.req.param('id'));
    const jobId = positiveId(c.req.param('jobId'));
    if (runId === null || jobId === null) return c.text('', 404);
    return c.text(service.waitReasons(runId).get(jobId) ?? '', 200, { 'cache-control': 'no-store' });
  });
  app.get('/runs/:id', (c) => {
    const id = positiveId(c.req.param('id'));
    const run = id === null ? null : store.runs.getRun(id);
    if (!run) return render(c, notFoundPage(`no run ${c.req.param('id')}`));
    const asked = positiveId(c.req.query('attempt') ?? '');
    const attempts = { list: store.attempts.listRunAttempts(run.id), shown: asked !== null && asked < run.attempt ? asked : run.attempt };
    const shownRun = attempts.shown === run.attempt ? run : { ...run, jobs: jobsAsOfAttempt(run.jobs, store.attempts.listJobAttempts(run.id), attempts.shown) };
    const waits = attempts.shown === run.attempt ? service.waitReasons(run.id) : new Map<number, string>();
    return render(c, runPage(shownRun, auth.viewerOf(c), now(), c.req.query('error') ?? null, unexpired(store.artifacts.listRunArtifacts(run.id), now()), attempts, waits));
  });
  // The server's secrets are for a server admin's session, a repo's for its maintainers': anyone
  // else is sent to log in, a session of a weaker role is refused.
  const secrets = (c: Context, repoName: string | null) => {
    const session = auth.sessionOf(c);
    if (!session) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
    if (!auth.may(c, repoName === null ? 'admin' : 'maintain', repoName)) {
      return render(c, forbiddenPage(repoName === null ? 'The server\'s secrets are for a server admin.' : `The secrets of ${repoName} are for its maintainers.`));
    }
    const repo = repoName === null ? null : store.repos.getRepoByName(repoName);
    if (repoName !== null && !repo) return render(c, notFoundPage(`no repo named ${repoName}`));
    const serverSecrets = store.secrets.listServerSecrets();
    const target = repo ? { repo: repo.name, own: store.secrets.listSecrets(repo.id), inherited: serverSecrets } : { repo: null, own: serverSecrets, inherited: [] };
    const q = (k: string) => c.req.query(k) ?? '';
    const entered = c.req.query('error') ? { name: q('name'), branches: q('branches'), events: q('events'), environments: q('environments') } : null;
    return render(c, secretsPage(target, auth.viewerOf(c), now(), c.req.query('error') ?? null, entered));
  };
  app.get('/secrets', (c) => secrets(c, null));
  app.get('/repos/:repo/secrets', (c) => secrets(c, c.req.param('repo')));
  app.get('/agents', (c) => render(c, agentsPage(store.agents.listAgents(), now())));
  app.get('/pools', (c) => render(c, poolsPage(asPoolSummaries(service.pools()), samples(), now())));
  app.get('/usage', (c) => {
    let days = 7;
    let error: string | null = null;
    try {
      days = parseUsageDays(c.req.query('days'));
    } catch (refused) {
      if (!(refused instanceof KilnError)) throw refused;
      error = `${refused.message}: showing ${days} days`; // the page still shows the default week
    }
    return render(c, usagePage(readAgentUsage(store, poolBounds(service.pools()), now(), days), days, error));
  });
  // The audit log is for a server admin's session: anyone else is sent to log in, a weaker session is refused.
  app.get('/audit', (c) => {
    if (!auth.sessionOf(c)) return c.redirect(`/login?next=${encodeURIComponent(c.req.path + new URL(c.req.url).search)}`, 303);
    if (!auth.may(c, 'admin', null)) return render(c, forbiddenPage('The audit log is for a server admin.'));
    const q = (k: string) => c.req.query(k) ?? '';
    const filter = { actor: q('actor'), action: q('action'), since: q('since') };
    const paged = c.req.query('before') !== undefined;
    try {
      const { rows, next } = store.audit.list(auditFilter({ ...filter, before: c.req.query('before') }, now(), 50));
      return render(c, auditPage(rows, next, filter, paged, null));
    } catch (refused) {
      if (!(refused instanceof KilnError) || refused.code !== 'bad_input') throw refused;
      return render(c, auditPage([], null, filter, false, refused.message));
    }
  });
  app.get('/queue', (c) => render(c, queuePage(service.queue(), auth.viewerOf(c), now())));
  app.get('/environments', (c) => {
    const deployments: Deployment[] = [];
    for (const job of store.jobs.listLastDeployments()) {
      const run = store.runs.getRunSummary(job.runId);
      if (run && job.plan.environment) deployments.push({ environment: job.plan.environment, job, run });
    }
    return render(c, environmentsPage(deployments, now()));
  });
  return app;
}
