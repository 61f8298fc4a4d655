// End to end: a real failing pipeline on a real server and agent. Its end reaches a real SMTP
// server on loopback as a mail (the repo's `notify:` in kiln.yml, through server.smtp) and a
// real HTTP receiver as a webhook signed with the repo's secret (pipeline.yml's `notify:`).
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';
import { startRecorder, type Recorder } from '../helpers/recorder.js';
import { startMailSink, type MailSink } from '../helpers/smtp.js';

const failingPipeline = (url: string) => `notify:
  - on: [failure, fixed]
    webhook: ${url}/kiln
    secret: NOTIFY_KEY
jobs:
  test:
    steps: [{ run: "echo testing; exit 4" }]
`;
let repo: TestRepo;
let deploys: TestRepo;
let server: ServerProcess;
let sink: MailSink;
let receiver: Recorder;

beforeAll(async () => {
  await isolateGit();
  sink = await startMailSink();
  receiver = await startRecorder();
  receiver.answer(200);
  repo = await createRepo();
  await repo.commit({ 'pipeline.yml': failingPipeline(receiver.url) });
  deploys = await createRepo();
  await deploys.commit({
    'pipeline.yml': `notify:
  - on: approval_needed
    webhook: ${receiver.url}/approvals
jobs:
  ship:
    approval: true
    steps: [{ run: "echo shipping" }]
`,
  });
  server = await startServer({
    config: `repos:
  - name: web
    path: ${JSON.stringify(repo.path)}
    notify:
      - { on: [failure], email: [dev@example.com] }
  - name: deploys
    path: ${JSON.stringify(deploys.path)}
pools: []
server:
  lease_timeout: 5s
  smtp: { host: 127.0.0.1, port: ${sink.port}, secure: false, from: kiln@ci.example.com }
`,
  });
  expect((await server.api('PUT', '/api/repos/web/secrets/NOTIFY_KEY', { value: 'webhook-signing-key' })).status).toBe(200);
  await startAgent(server);
});
afterAll(async () => {
  await killAll();
  await sink?.close();
  await receiver?.close();
  await removeTempDirs();
});

describe('notifications of a failed run', () => {
  it('mail the failure through server.smtp and post a signed webhook; the API lists both as sent', async () => {
    const { body } = await server.api('POST', '/api/repos/web/runs', {});
    const run = await runEnded(server, body.id);
    expect(run.status).toBe('failed');

    const mail = await eventually(() => sink.mails[0], 15_000, 'the failure mail');
    expect(mail.to).toEqual(['dev@example.com']);
    expect(mail.headers.subject).toBe(`kiln: web #${run.number} failed on ${run.branch} (${run.sha.slice(0, 7)})`);
    expect(mail.body).toContain(`/runs/${run.id}`);

    const hook = await eventually(() => receiver.requests[0], 15_000, 'the webhook');
    expect(hook.path).toBe('/kiln');
    expect(hook.headers['x-kiln-signature-256']).toBe(`sha256=${createHmac('sha256', 'webhook-signing-key').update(hook.body).digest('hex')}`);
    expect(JSON.parse(hook.body)).toMatchObject({ event: 'failure', repo: 'web', run: { id: run.id, status: 'failed', sha: run.sha } });

    const deliveries = await eventually(async () => {
      const { body: list } = await server.api('GET', '/api/repos/web/notifications');
      return list.length === 2 && list.every((d: any) => d.status === 'sent') ? list : null;
    }, 10_000, 'both deliveries sent');
    expect(deliveries.map((d: any) => d.target).sort()).toEqual(['email dev@example.com', `webhook ${receiver.url}`]);
  });

  it('the fix, pushed, runs on the branch and posts `fixed` (and mails nothing: the mail rule hears failures only)', async () => {
    const sha = await repo.commit({ 'pipeline.yml': failingPipeline(receiver.url).replace('exit 4', 'exit 0') });
    const hook = await eventually(() => receiver.requests.find((r) => JSON.parse(r.body).run?.sha === sha), 20_000, 'the push run\'s webhook');
    expect(JSON.parse(hook.body)).toMatchObject({ event: 'fixed', run: { status: 'success', event: 'push', branch: 'main' } });
    expect(hook.headers['x-kiln-event']).toBe('fixed');
    const { body: list } = await server.api('GET', '/api/repos/web/notifications');
    expect(list.map((d: any) => d.event)).toEqual(['fixed', 'failure', 'failure']);
    expect(sink.mails).toHaveLength(1);
  });
});

describe('notifications of an approval', () => {
  it('a job that waits for an approval posts approval_needed with the job and its link', async () => {
    const { body } = await server.api('POST', '/api/repos/deploys/runs', {});
    const hook = await eventually(() => receiver.requests.find((r) => r.path === '/approvals'), 15_000, 'the approval webhook');
    const payload = JSON.parse(hook.body);
    expect(payload).toMatchObject({ event: 'approval_needed', repo: 'deploys', run: { id: body.id }, job: { name: 'ship' } });
    expect(payload.job.url).toBe(`${server.url}/runs/${body.id}/jobs/${payload.job.id}`);
    const { body: job } = await server.api('GET', `/api/jobs/${payload.job.id}`);
    expect(job.status).toBe('blocked');
  });
});
