// The server masks a chunk's lines again, with the job's secrets, before it stores or
// publishes them: an agent that sends a secret in clear (an old or a broken one) leaks nothing.
import { describe, expect, it } from 'vitest';
import { createJobMaskers } from '../../../server/queue/job-maskers.js';
import { plannedJob } from '../store/fixtures.js';
import { queueFixture } from './queue-fixture.js';

const TOKEN = 'server-side-token-value';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('the server\'s masking pass', () => {
  it('masks every form of the job\'s secrets in stored lines and in the live event, and nothing of other jobs', () => {
    const fx = queueFixture();
    fx.store.secrets.setSecret(fx.repo.id, 'TOKEN', TOKEN);
    const agent = fx.agent('a', { capacity: 2 });
    fx.run(plannedJob('deploy', { secrets: ['TOKEN'] }), plannedJob('other'));
    const [deploy, other] = ['deploy', 'other'].map((name) => agent.link.jobs().find((a) => a.job.name === name)!);
    expect(deploy!.secrets).toEqual([TOKEN]);
    fx.log(agent.link, deploy!, 0, `plain ${TOKEN} b64 ${b64(`x${TOKEN}`)} url ${encodeURIComponent(TOKEN)}`);
    fx.log(agent.link, other!, 0, `not a secret here: ${TOKEN}`);
    expect(fx.logText(deploy!.jobId)).toBe('plain *** b64 eH*** url ***\n');
    expect(fx.logText(other!.jobId)).toBe(`not a secret here: ${TOKEN}\n`);
    const published = fx.events.flatMap((e) => (e.type === 'log' && e.jobId === deploy!.jobId ? e.lines.map((l) => l.text) : []));
    expect(published).toEqual(['plain *** b64 eH*** url ***']);
  });

  it('masks a late chunk after the job ended, and after a restart, with the values read again from the store', () => {
    const fx = queueFixture();
    fx.store.secrets.setSecret(fx.repo.id, 'TOKEN', TOKEN);
    const agent = fx.agent('a');
    fx.run(plannedJob('deploy', { secrets: ['TOKEN'] }));
    const a = agent.link.jobs()[0]!;
    fx.done(agent.link, a);
    fx.log(agent.link, a, 0, `late ${TOKEN}`);
    expect(fx.logText(a.jobId)).toBe('late ***\n');

    const read: number[] = [];
    const maskers = createJobMaskers({ valuesOf: (jobId) => (read.push(jobId), [TOKEN]) });
    expect(maskers.maskerFor(7, 1).mask(TOKEN)).toBe('***');
    expect(maskers.maskerFor(7, 1).mask(TOKEN)).toBe('***');
    expect(read).toEqual([7]); // read once, then kept
  });

  it('remembers what the assignment carried, forgets it when the job ends, and keeps a bounded number', () => {
    const read: number[] = [];
    const maskers = createJobMaskers({ valuesOf: (jobId) => (read.push(jobId), []), max: 2 });
    maskers.remember(1, 1, ['value-one']);
    maskers.remember(2, 1, ['value-two']);
    expect(maskers.maskerFor(1, 1).mask('value-one')).toBe('***');
    maskers.remember(3, 1, ['value-three']); // job 1 is dropped, the oldest
    expect(maskers.maskerFor(1, 1).mask('value-one')).toBe('value-one');
    maskers.forget(3);
    expect(maskers.maskerFor(3, 1).mask('value-three')).toBe('value-three');
    expect(read).toEqual([1, 3]);
  });
});
