// End to end: a real failing pipeline on a real server and agent. Its end reaches a real SMTP
// server on loopback as a mail (the repo's `notify:` in kiln.yml, through server.smtp) and a
// real HTTP receiver as a webhook signed with the repo's secret (pipeline.yml's `notify:`).
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';
import { startRecorder, type Recorder } from '../helpers/recorder.js';
import { startMailSink, type MailSink } from '../helpers/smtp.js';

let repo: TestRepo;
let server: ServerProcess;
let sink: MailSink;
let receiver: Recorder;

beforeAll(async () => {
  await isolateGit();
  sink = await startMailSink();
  receiver = await startRecorder();
  receiver.answer(200);
  repo = await createRepo();
  await repo.commit({
    'pipeline.yml': `notify:
  - on: [failure, fixed]
    webhook: ${receiver.url}/kiln
    secret: NOTIFY_KEY
jobs:
  test:
    steps: [{ run: "echo testing; exit 4" }]
`,
  });
  server = await startServer({
    config: `repos:
  - name: web
    path: ${JSON.stringify(repo.path)}
    notify:
      - { on: [failure], email: [dev@example.com] }
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
});
