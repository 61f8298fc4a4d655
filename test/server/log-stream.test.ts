// `GET /api/jobs/:id/log[?follow=1]` through the real API app on a real store: long logs are
// read page by page, and a follower gets every line once, whether stored or live, until the end.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../server/api/app.js';
import { createEventBus } from '../../server/events.js';
import type { KilnService } from '../../server/service.js';
import { T0, newRun, seeded, textLines } from './store/fixtures.js';
import { testAccess } from '../helpers/access.js';

function setup() {
  const ctx = seeded();
  ctx.store.runs.createRun(newRun(ctx.repo.id));
  const claim = ctx.store.leases.claimNextJob(ctx.agents[0]!.id, [], T0, 30_000)!;
  const bus = createEventBus();
  const app = createApi({ store: ctx.store, bus, service: {} as KilnService, logger: pino({ level: 'silent' }), access: testAccess(ctx.store, { private: false }) });
  const jobId = claim.job.id;
  let seq = 0;
  /** What the hub does with an agent's chunk: store it, publish what was stored. */
  const receive = (text: string, at = seq++) => {
    const result = ctx.store.logs.appendLogLines({ jobId, attempt: 1, seq: at, lines: textLines(text) });
    if (!result.duplicate) bus.publish({ type: 'log', jobId, attempt: 1, firstLine: result.firstLine, lines: result.lines });
  };
  const finish = () => {
    ctx.store.leases.completeJob(jobId, claim.token, { status: 'success', exitCode: 0 }, T0 + 1);
    bus.publish({ type: 'job', job: ctx.store.jobs.getJob(jobId)! });
  };
  return { ...ctx, app, jobId, receive, finish };
}

const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');

describe('GET /api/jobs/:id/log', () => {
  it('answers a log of many chunks whole and in order', async () => {
    const { app, jobId, receive } = setup();
    for (let n = 1; n <= 1000; n += 10) receive(numbered(n, n + 9));
    receive('');
    const response = await app.request(`/api/jobs/${jobId}/log`);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe(numbered(1, 1000));
  });

  it('follows: stored pages, then lines that arrive while and after they are read, each once, until the job ends', async () => {
    const { app, jobId, receive, finish } = setup();
    for (let n = 1; n <= 400; n += 10) receive(numbered(n, n + 9)); // 40 chunks: more than one page
    const response = await app.request(`/api/jobs/${jobId}/log?follow=1`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    receive(numbered(401, 405));   // stored and published while the stored pages are read
    receive(numbered(401, 405), 39); // a replay: not stored, not published
    for (;;) {
      if (text.endsWith('line 405\n')) break;
      text += decoder.decode((await reader.read()).value);
    }
    receive(numbered(406, 410));   // live
    finish();
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += decoder.decode(part.value);
    expect(text).toBe(numbered(1, 410));
  });
});
