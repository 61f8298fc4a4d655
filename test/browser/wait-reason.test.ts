// Why a job waits, in a real browser against a real server and agent: the job page of a queued
// job says why, with /queue's words, and the line changes without a reload when the reason
// does; the run page shows the same line on its waiting job, and a visitor's links there read apart.
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';
import { makeTempDir } from '../helpers/git.js';
import { runOfCommit } from '../helpers/kiln.js';

describe.skipIf(skipBrowser())('why a job waits, on its page and on the run page', () => {
  const fx = useBrowserFixture();

  it('a queued job\'s page says why it waits, as /queue does, and follows the reason live', async () => {
    const marker = join(await makeTempDir('kiln-wait-'), 'go');
    const sha = await fx.repo.commit({
      'pipeline.yml': [
        'jobs:',
        '  build:',
        '    steps:',
        `      - run: while [ ! -e ${marker} ]; do sleep 0.1; done`,
        '  render:',
        '    needs: [build]',
        '    runs-on: gpu',
        '    steps:',
        '      - run: echo render',
        '',
      ].join('\n'),
    });
    const run = await runOfCommit(fx.server, 'web', sha);
    const render = run.jobs.find((j: { name: string }) => j.name === 'render');
    const page = await newPage(fx.browser);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    await page.goto(`${fx.server.url}/runs/${run.id}`);
    const onRun = page.locator(`tr[data-job="render"] [data-wait-reason="${render.id}"]`);
    await expect.poll(() => onRun.innerText()).toBe('waiting for a job it needs: build');

    await page.goto(`${fx.server.url}/runs/${run.id}/jobs/${render.id}`);
    const reason = page.locator('[data-wait-for]');
    await expect.poll(() => reason.innerText()).toBe('waiting for a job it needs: build');

    await writeFile(marker, ''); // build ends: render now waits for an agent with its label
    await expect.poll(() => reason.innerText(), { timeout: 15_000 }).toBe('no agent or pool has the labels [gpu]');
    const queue = await fx.server.api('GET', '/api/queue');
    const entry = queue.body.find((e: { id: number }) => e.id === render.id);
    expect(entry.reason).toBe('no agent or pool has the labels [gpu]');

    await page.goto(`${fx.server.url}/runs/${run.id}`);
    await expect.poll(() => onRun.innerText()).toBe('no agent or pool has the labels [gpu]');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('a job waiting for approval says so once; a visitor sees "log in to approve" apart from its "log" link; approving clears the line live', async () => {
    const sha = await fx.repo.commit({ 'pipeline.yml': 'jobs:\n  ship:\n    approval: true\n    steps:\n      - run: echo shipped\n' });
    const run = await runOfCommit(fx.server, 'web', sha);
    const ship = run.jobs[0];
    const page = await newPage(fx.browser);
    await page.goto(`${fx.server.url}/runs/${run.id}`);
    const row = page.locator('tr[data-job="ship"]');
    await expect.poll(() => row.innerText()).toContain('waiting for approval');
    expect((await row.innerText()).match(/waiting for approval/g)).toHaveLength(1);
    expect(await row.locator('td').last().innerText()).toBe('log in to approve log');

    await page.goto(`${fx.server.url}/runs/${run.id}/jobs/${ship.id}`);
    const reason = page.locator('[data-wait-for]');
    expect(await reason.innerText()).toBe('waiting for approval');
    expect((await page.locator('main').innerText()).match(/waiting for approval/g)).toHaveLength(1);
    expect((await fx.server.api('POST', `/api/jobs/${ship.id}/approve`)).status).toBe(200);
    await expect.poll(() => reason.isHidden()).toBe(true);
    await page.context().close();
  });
});
