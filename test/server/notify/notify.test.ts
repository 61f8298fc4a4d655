// Notifications on a real SQLite store: which events fire (fixed on the same branch only), the
// signed webhook at a real HTTP receiver, the mail at a real SMTP server on loopback, retries
// driven by a hand-moved clock, and an outbox that survives reopening its file.
import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { validatePipeline } from '../../../shared/pipeline/index.js';
import { createNotifier } from '../../../server/notify/notifier.js';
import { createNotificationSender, FIRST_RETRY_MS } from '../../../server/notify/sender.js';
import type { SmtpSettings } from '../../../server/notify/targets.js';
import { openDatabase, type Store } from '../../../server/store/index.js';
import type { NotifyRule } from '../../../shared/pipeline/notify.js';
import { startRecorder } from '../../helpers/recorder.js';
import { startMailSink } from '../../helpers/smtp.js';
import { newRun, plan, plannedJob, tempStore, testSecretBox, trackStore } from '../store/fixtures.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closing.length > 0) await closing.pop()!();
});

const silent = pino({ level: 'silent' });

function setup(rules: NotifyRule[], options: { smtp?: SmtpSettings; repoRules?: NotifyRule[] } = {}) {
  const ctx = tempStore();
  const { store, clock } = ctx;
  const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web', notify: options.repoRules ?? [] });
  const agent = store.agents.registerAgent({ name: 'agent-1', labels: [], pool: null, capacity: 1, protocol: 1, version: null });
  const timers: Array<{ at: number; kick: () => void }> = [];
  const sender = createNotificationSender({
    store, logger: silent, smtp: options.smtp ?? null, now: clock.now,
    setTimer: (kick, ms) => {
      const timer = { at: clock.now() + ms, kick };
      timers.push(timer);
      return () => void timers.splice(timers.indexOf(timer), 1);
    },
  });
  const notifier = createNotifier({ store, serverUrl: () => 'http://kiln.test', enqueued: () => {}, now: clock.now });
  /** A run on `branch` that ends `status`; the notifier is told, as the queue tells it. */
  const endRun = (status: 'success' | 'failed' | 'cancelled', branch = 'main') => {
    const run = store.runs.createRun(newRun(repo.id, { branch, ref: `refs/heads/${branch}`, plan: { ...plan(plannedJob('build')), notify: rules } }));
    const jobId = run.jobs[0]!.id;
    if (status === 'cancelled') store.jobs.setJobStatus(jobId, 'cancelled');
    else {
      const claim = store.leases.claimJob(jobId, agent.id, clock.now(), 60_000)!;
      store.leases.completeJob(jobId, claim.token, { status, exitCode: status === 'success' ? 0 : 1 }, clock.now());
    }
    const ended = store.runs.getRunSummary(run.id)!;
    notifier.runEnded(ended);
    notifier.runEnded(ended); // told again when published again: nothing more
    return ended;
  };
  const events = () => store.notifications.listRecent(repo.id, 100).map((n) => n.event).reverse();
  return { ...ctx, store, repo, sender, notifier, endRun, events, timers };
}

const webhook = (url: string, on: NotifyRule['on'], secret: string | null = null): NotifyRule => ({ on, target: { kind: 'webhook', url, secret } });

describe('notify: in pipeline.yml', () => {
  it('plans each entry with its events (default failure and fixed) and its one target', () => {
    const result = validatePipeline([
      'jobs: { build: { steps: [{ run: make }] } }',
      'notify:',
      '  - { on: [failure, fixed], webhook: "https://ci.example.com/hook", secret: HOOK_KEY }',
      '  - { slack: "https://hooks.slack.com/services/T/B/X" }',
      '  - { on: approval_needed, email: ops@example.com }',
    ].join('\n'));
    expect(result.ok && result.plan.notify).toEqual([
      { on: ['failure', 'fixed'], target: { kind: 'webhook', url: 'https://ci.example.com/hook', secret: 'HOOK_KEY' } },
      { on: ['failure', 'fixed'], target: { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X' } },
      { on: ['approval_needed'], target: { kind: 'email', to: ['ops@example.com'] } },
    ]);
  });

  it('refuses an unknown key, an unknown event and an entry without a target or with two, each on one line', () => {
    const problems = (entry: string) => {
      const result = validatePipeline(`jobs: { build: { steps: [{ run: make }] } }\nnotify:\n  - ${entry}\n`);
      return result.ok ? [] : result.problems.map((p) => `${p.line}:${p.col} ${p.message}`);
    };
    expect(problems('{ on: [failure], webhok: "https://x.test" }')).toEqual(expect.arrayContaining(['3:22 notify[0].webhok: unknown key "webhok" (did you mean "webhook"?)']));
    expect(problems('{ on: [broken], email: a@b.c }').join('\n')).toMatch(/notify\[0\]\.on.*expected one of failure, fixed, success, always, approval_needed/);
    expect(problems('{ on: [failure] }').join('\n')).toMatch(/a notify entry needs a target: webhook, slack or email/);
    expect(problems('{ email: a@b.c, slack: "https://x.test" }').join('\n')).toMatch(/a notify entry has one target, not slack and email/);
    expect(problems('{ email: a@b.c, secret: K }').join('\n')).toMatch(/`secret` signs a webhook/);
  });
});

describe('which events fire', () => {
  it('fixed is the first success after a failure on the same branch; a success after that is a success', () => {
    const { endRun, events } = setup([webhook('http://x.test', ['failure', 'fixed', 'success'])]);
    endRun('success');
    endRun('failed');
    endRun('success');
    endRun('success');
    expect(events()).toEqual(['success', 'failure', 'fixed', 'success']);
  });

  it('a failure on another branch does not make a success fixed, and a cancelled run fires only always', () => {
    const { endRun, events, store, repo } = setup([webhook('http://x.test', ['fixed', 'success']), webhook('http://y.test', ['always'])]);
    endRun('failed', 'feature');
    endRun('success', 'main');
    endRun('cancelled', 'main');
    expect(events()).toEqual(['always', 'success', 'always', 'always']);
    expect(store.notifications.listRecent(repo.id, 10).map((n) => n.target)).toEqual(['webhook http://y.test', 'webhook http://y.test', 'webhook http://x.test', 'webhook http://y.test']);
  });

  it('the repo\'s own rules (kiln.yml) fire with the pipeline\'s', () => {
    const { endRun, events } = setup([], { repoRules: [{ on: ['failure'], target: { kind: 'email', to: ['ops@example.com'] } }] });
    endRun('failed');
    endRun('success');
    expect(events()).toEqual(['failure']);
  });
});

describe('delivery', () => {
  it('posts the payload to a webhook with an HMAC-SHA256 signature made with the repo secret it names', async () => {
    const receiver = await startRecorder();
    closing.push(() => receiver.close());
    receiver.answer(200);
    const { endRun, sender, store, repo } = setup([webhook(`${receiver.url}/kiln`, ['failure'], 'HOOK_KEY'), { on: ['failure'], target: { kind: 'slack', url: `${receiver.url}/chat` } }]);
    store.secrets.setSecret(repo.id, 'HOOK_KEY', 'shh-its-a-secret');
    const run = endRun('failed');
    await sender.deliverDue();

    const [hook, chat] = receiver.requests;
    const expected = `sha256=${createHmac('sha256', 'shh-its-a-secret').update(hook!.body).digest('hex')}`;
    expect(hook!.headers['x-kiln-signature-256']).toBe(expected);
    expect(hook!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(hook!.body)).toMatchObject({
      event: 'failure', repo: 'web',
      run: { id: run.id, number: 1, status: 'failed', branch: 'main', sha: 'a'.repeat(40), url: `http://kiln.test/runs/${run.id}` },
      job: null,
    });
    expect(JSON.parse(chat!.body)).toEqual({ text: `kiln: web #1 failed on main (aaaaaaa)\na commit\nhttp://kiln.test/runs/${run.id}` });
    expect(store.notifications.listRecent(repo.id, 10).map((n) => [n.status, n.attempts])).toEqual([['sent', 0], ['sent', 0]]);
  });

  it('mails a failure through server.smtp to a real SMTP server, subject and body checked', async () => {
    const sink = await startMailSink();
    closing.push(() => sink.close());
    const smtp: SmtpSettings = { host: sink.host, port: sink.port, secure: false, user: null, password: null, from: 'kiln@ci.example.com' };
    const { endRun, sender } = setup([{ on: ['failure'], target: { kind: 'email', to: ['dev@example.com', 'ops@example.com'] } }], { smtp });
    const run = endRun('failed');
    await sender.deliverDue();
    expect(sink.mails).toHaveLength(1);
    const mail = sink.mails[0]!;
    expect(mail.from).toBe('kiln@ci.example.com');
    expect(mail.to).toEqual(['dev@example.com', 'ops@example.com']);
    expect(mail.headers.subject).toBe('kiln: web #1 failed on main (aaaaaaa)');
    expect(mail.body).toContain('a commit');
    expect(mail.body).toContain(`http://kiln.test/runs/${run.id}`);
  });

  it('retries a target that is down with back-off, and delivers once it is back', async () => {
    const receiver = await startRecorder();
    closing.push(() => receiver.close());
    receiver.answer(503);
    const { endRun, sender, store, repo, clock, timers } = setup([webhook(receiver.url, ['failure'])]);
    endRun('failed');
    sender.start();
    closing.push(() => sender.stop());
    const view = () => store.notifications.listRecent(repo.id, 1)[0]!;
    await expect.poll(() => view().attempts).toBe(1);
    expect(view()).toMatchObject({ status: 'retrying', lastError: expect.stringMatching(/answered 503/) });
    expect(store.notifications.lastFailure(repo.id)).toMatchObject({ target: `webhook ${receiver.url}`, error: expect.stringMatching(/503/) });
    // Not tried again before its time: the next try waits 5 s, then 10 s.
    await expect.poll(() => timers.length).toBe(1);
    expect(timers[0]!.at - clock.now()).toBe(FIRST_RETRY_MS);
    clock.advance(FIRST_RETRY_MS);
    timers.pop()!.kick();
    await expect.poll(() => view().attempts).toBe(2);
    await expect.poll(() => timers.length).toBe(1);
    expect(timers[0]!.at - clock.now()).toBe(2 * FIRST_RETRY_MS);

    receiver.answer(200); // the target is back
    clock.advance(2 * FIRST_RETRY_MS);
    timers.pop()!.kick();
    await expect.poll(() => view().status).toBe('sent');
    expect(receiver.requests.map((r) => r.answered)).toEqual([503, 503, 200]);
    expect(store.notifications.lastFailure(repo.id)).toBeNull();
  });

  it('loses nothing when the store is reopened: what was enqueued before is delivered after', async () => {
    const receiver = await startRecorder();
    closing.push(() => receiver.close());
    receiver.answer(200);
    const { endRun, store, file, clock } = setup([webhook(receiver.url, ['failure'])]);
    endRun('failed');
    store.close();

    const box = testSecretBox();
    const reopened: Store = trackStore(openDatabase(file, { clock }));
    reopened.sealing.unlock(box);
    const sender = createNotificationSender({ store: reopened, logger: silent, smtp: null, now: clock.now });
    await sender.deliverDue();
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ event: 'failure', run: { number: 1 } });
    expect(reopened.notifications.nextDue()).toBeNull();
  });
});
