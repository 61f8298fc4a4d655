import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { T0, newRun, plan, plannedJob, seeded } from './fixtures.js';

// Each worker thread opens its own connection to the same file (through the compiled store in
// dist/, as `npm test` builds it first), waits at a barrier, then claims until the queue is empty.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { openDatabase } = await import(workerData.storeUrl);
  const store = openDatabase(workerData.file);
  const gate = new Int32Array(workerData.gate);
  Atomics.add(gate, 0, 1);
  while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0, 10);
  const claims = [];
  for (let c; (c = store.leases.claimNextJob(workerData.agentId, ['linux'], workerData.now, 60000)); ) {
    claims.push({ jobId: c.job.id, token: c.token });
    Atomics.wait(gate, 2, 0, 1); // a moment of "work" between claims, so the others get the lock too
  }
  store.close();
  parentPort.postMessage(claims);
})().catch((error) => { throw error; });
`;

const STORE_JS = resolve('dist/server/store/index.js');

describe('claiming from several connections at once', () => {
  it('gives every job to exactly one agent, with distinct increasing tokens', async () => {
    expect(existsSync(STORE_JS), 'run `npx tsc -b` first: the workers load dist/').toBe(true);
    const agentsWanted = 4;
    const { store, file, repo, agents } = seeded(Array.from({ length: agentsWanted }, () => ['linux']));
    const jobs = Array.from({ length: 60 }, (_, i) => plannedJob(`job-${i}`, { runsOn: ['linux'] }));
    const run = store.runs.createRun(newRun(repo.id, { plan: plan(...jobs) }));

    const gate = new SharedArrayBuffer(12);
    const results = agents.map(
      (agent) =>
        new Promise<Array<{ jobId: number; token: number }>>((done, fail) => {
          const worker = new Worker(WORKER, {
            eval: true,
            workerData: { storeUrl: pathToFileURL(STORE_JS).href, file, agentId: agent.id, now: T0, gate },
          });
          worker.once('message', done);
          worker.once('error', fail);
        }),
    );
    const view = new Int32Array(gate);
    while (Atomics.load(view, 0) < agentsWanted) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(view, 1, 1);
    Atomics.notify(view, 1);
    const perAgent = await Promise.all(results);
    expect(perAgent.filter((c) => c.length > 0).length, 'the workers really interleaved').toBeGreaterThan(1);
    const claims = perAgent.flat();

    const jobIds = claims.map((c) => c.jobId);
    expect(new Set(jobIds).size).toBe(jobIds.length);
    expect(jobIds.sort((a, b) => a - b)).toEqual(run.jobs.map((j) => j.id));
    expect(new Set(claims.map((c) => c.token)).size).toBe(60);
    const after = store.runs.getRun(run.id)!;
    expect(after.jobs.every((j) => j.status === 'running' && j.attempt === 1)).toBe(true);
    for (const c of claims) expect(store.leases.getLease(c.jobId)?.token).toBe(c.token);
  });
});
