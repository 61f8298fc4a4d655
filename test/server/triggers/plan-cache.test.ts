// Plans cached by the blob id of pipeline.yml: a blob is validated once, however many commits
// and triggers reuse it, and a broken one keeps giving its problems.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePipeline } from '../../../shared/pipeline/index.js';
import { createPlanCache } from '../../../server/triggers/plan-cache.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../../helpers/git.js';
import { createTriggerParts, type TriggerParts } from './fixture.js';

let parts: TriggerParts;
let repo: TestRepo;
const validated: string[] = [];

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'jobs:\n  a:\n    steps: [{ run: echo a }]\n' });
  const plans = createPlanCache({ validate: (text) => (validated.push(text), validatePipeline(text)) });
  parts = await createTriggerParts({ plans });
  await parts.triggers.register({ name: 'web', path: repo.path });
});
afterAll(async () => {
  await parts.stop();
  await removeTempDirs();
});

const trigger = () => parts.api.trigger('web', { event: 'api' });

describe('the plan cache', () => {
  it('validates a pipeline.yml blob once for every commit and trigger that uses it', async () => {
    await trigger();
    await repo.commit({ 'README.md': 'one' });
    await Promise.all([trigger(), trigger(), trigger()]);
    await repo.commit({ 'README.md': 'two' });
    const run = await trigger();
    expect(run.jobs.map((j) => j.name)).toEqual(['a']);
    expect(validated).toHaveLength(1);

    await repo.commit({ 'pipeline.yml': 'jobs:\n  b:\n    steps: [{ run: echo b }]\n' });
    expect((await trigger()).jobs.map((j) => j.name)).toEqual(['b']);
    expect(validated).toHaveLength(2);
  });

  it('keeps the problems of a broken blob: each run of it is an error run, validated once', async () => {
    await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    stepz: []\n' });
    const before = validated.length;
    const runs = [await trigger(), await trigger()];
    for (const run of runs) expect(run).toMatchObject({ status: 'error', error: expect.stringContaining('pipeline.yml:3:5: jobs.build.stepz: unknown key "stepz"') });
    expect(validated.length).toBe(before + 1);
  });

  it('shares one read and validation among callers asking for a new blob at once, and forgets a failed read', async () => {
    const count: string[] = [];
    const cache = createPlanCache({ validate: (text) => (count.push(text), validatePipeline(text)) });
    let reads = 0;
    const read = async () => (reads++, 'jobs:\n  x:\n    steps: [{ run: echo x }]\n');
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => cache.planOf('a'.repeat(40), read)));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect([reads, count.length]).toEqual([1, 1]);
    await expect(cache.planOf('b'.repeat(40), () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');
    expect((await cache.planOf('b'.repeat(40), read)).ok).toBe(true);
  });
});
