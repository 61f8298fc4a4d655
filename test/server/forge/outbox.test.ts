// The status sender on a real SQLite store, posting to a recording server on loopback (the
// forge's far side cannot run here): what it sends after a stop and a start.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus } from '../../../server/events.js';
import { createStatusSender, type StatusSender } from '../../../server/forge/outbox.js';
import { eventually } from '../../helpers/kiln.js';
import { startRecorder, type Recorder } from '../../helpers/recorder.js';
import { newRun, plan, plannedJob, tempStore } from '../store/fixtures.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closing.length > 0) await closing.pop()!();
});

async function setup() {
  const forge = await startRecorder();
  closing.push(() => forge.close());
  const { store, clock } = tempStore();
  const repo = store.repos.addRepo({ name: 'site', url: 'https://github.com/acme/site.git', forge: { kind: 'github', apiUrl: forge.url, token: 'forge-token' } });
  const bus = createEventBus();
  const sender = (): StatusSender => {
    const made = createStatusSender({ store, bus, logger: pino({ level: 'silent' }), serverUrl: () => 'http://kiln.test', now: clock.now });
    closing.push(() => made.stop());
    return made;
  };
  const descriptions = (f: Recorder) => f.requests.map((r) => (JSON.parse(r.body) as { description: string }).description);
  return { forge, store, repo, bus, sender, descriptions };
}

describe('the status sender', () => {
  it('at start, sends the status of a run that changed while no sender listened (the server stopping or starting)', async () => {
    const { forge, store, repo, bus, sender, descriptions } = await setup();
    const first = sender();
    first.start();
    const run = store.runs.createRun(newRun(repo.id));
    bus.publish({ type: 'run', run });
    await eventually(() => forge.requests.length === 1 || null, 5000, 'the queued status');
    await first.stop();

    // The run ends while the sender is stopped: its event reaches nobody.
    store.jobs.setJobStatus(run.jobs[0]!.id, 'cancelled');
    bus.publish({ type: 'run', run: store.runs.getRunSummary(run.id)! });

    sender().start();
    await eventually(() => forge.requests.length === 2 || null, 5000, 'the cancelled status');
    expect(descriptions(forge)).toEqual(['kiln run #1 queued', 'kiln run #1 cancelled']);
    expect(JSON.parse(forge.requests[1]!.body)).toMatchObject({ state: 'error', context: 'kiln/site' });
  });

  it('at start, reports nothing for runs it never reported (a forge set on a repo with a history)', async () => {
    const { forge, store, repo, sender } = await setup();
    const old = store.runs.createRun(newRun(repo.id));
    store.jobs.setJobStatus(old.jobs[0]!.id, 'cancelled');
    sender().start();
    expect(store.statuses.staleRuns()).toEqual([]);
    expect(store.statuses.nextDue()).toBeNull();
    expect(forge.requests).toEqual([]);
  });

  it('names the context after the pipeline, says why a run was superseded, and takes a repo\'s new forge settings from the next status on', async () => {
    const { forge, store, repo, bus, sender } = await setup();
    sender().start();
    const run = store.runs.createRun(newRun(repo.id, { plan: { ...plan(plannedJob('a'), plannedJob('b')), name: 'web-ci' } }));
    bus.publish({ type: 'run', run });
    await eventually(() => forge.requests.length === 1 || null, 5000, 'the queued status');

    store.repos.updateSettings(repo.id, { forge: { kind: 'github', apiUrl: forge.url, token: 'new-token' } });
    store.jobs.cancelRun(run.id, 'superseded by run #2');
    bus.publish({ type: 'run', run: store.runs.getRunSummary(run.id)! });
    await eventually(() => forge.requests.length === 2 || null, 5000, 'the cancelled status');
    expect(forge.requests.map((r) => [r.headers.authorization, JSON.parse(r.body).context, JSON.parse(r.body).description])).toEqual([
      ['Bearer forge-token', 'kiln/web-ci', 'kiln run #1 queued'],
      ['Bearer new-token', 'kiln/web-ci', 'kiln run #1 cancelled (superseded by run #2)'],
    ]);
  });

  it("gives a pull request's run a context of its own, so the push run of the same commit does not overwrite it", async () => {
    const { forge, store, repo, bus, sender } = await setup();
    sender().start();
    const sha = 'c'.repeat(40);
    const pushRun = store.runs.createRun(newRun(repo.id, { sha }));
    const prRun = store.runs.createRun(newRun(repo.id, {
      sha, event: 'pull_request', ref: 'refs/kiln/pull/4/head',
      pullRequest: { number: 4, sourceBranch: 'main', targetBranch: 'release', fromFork: false },
    }));
    bus.publish({ type: 'run', run: pushRun });
    bus.publish({ type: 'run', run: prRun });
    await eventually(() => forge.requests.length === 2 || null, 5000, 'both statuses');
    expect(forge.requests.map((r) => [r.path, JSON.parse(r.body).context]).sort()).toEqual([
      [`/repos/acme/site/statuses/${sha}`, 'kiln/site'],
      [`/repos/acme/site/statuses/${sha}`, 'kiln/site (pull request)'],
    ]);
  });
});
