// Attempts on the run page, in a real browser against a real server and agent: "Re-run failed"
// on a failed run makes attempt 2 of the same run; the page then lists attempts 1 and 2, and
// attempt 1 shows its job as it ended with a link to that attempt's log, pinned.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logIn, newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';
import { makeTempDir } from '../helpers/git.js';
import { runEnded } from '../helpers/kiln.js';

describe.skipIf(skipBrowser())('attempts on the run page', () => {
  const fx = useBrowserFixture();

  it('re-run failed from the page adds attempt 2; attempt 1 keeps its failed job and its log', async () => {
    const marker = join(await makeTempDir('kiln-attempts-'), 'again');
    const { runId, jobId } = await fx.startJob('flaky', `if [ -e ${marker} ]; then echo "outcome-$((1+1))-pass"; else touch ${marker}; echo "outcome-$((1+1))-fail"; exit 3; fi`);
    expect((await runEnded(fx.server, runId)).status).toBe('failed');
    const page = await newPage(fx.browser);
    await logIn(page, fx.server.url);
    await page.goto(`${fx.server.url}/runs/${runId}`);
    await page.getByRole('button', { name: 'Re-run failed' }).click();
    await page.waitForURL(`${fx.server.url}/runs/${runId}`);
    expect((await runEnded(fx.server, runId)).status).toBe('success');

    await page.goto(`${fx.server.url}/runs/${runId}`);
    const nav = page.locator('nav.attempts');
    await expect.poll(() => nav.innerText()).toMatch(/attempts:\s*1\s*failed\s*·\s*2\s*success/);
    expect(await page.locator('tr[data-job="flaky"] .status').first().innerText()).toBe('success');

    await nav.locator('a[data-attempt="1"]').click();
    await page.waitForURL(`${fx.server.url}/runs/${runId}?attempt=1`);
    expect(await page.locator('[data-earlier-attempt]').count()).toBe(1);
    expect(await page.locator('tr[data-job="flaky"] .status').first().innerText()).toBe('failed');
    expect(await page.getByRole('button', { name: /re-run/i }).count()).toBe(0); // an earlier attempt is read only

    await page.locator('tr[data-job="flaky"] a', { hasText: 'log' }).click();
    await page.waitForURL(`${fx.server.url}/runs/${runId}/jobs/${jobId}?attempt=1`);
    await page.waitForSelector('[data-log-viewer].ready');
    await expect.poll(() => page.locator('.log-rows').innerText()).toContain('outcome-2-fail');
    expect(await page.locator('.log-rows').innerText()).not.toContain('outcome-2-pass');
    expect(await page.locator('[data-pinned-attempt]').innerText()).toContain('1 of 2');
    expect(await page.locator('[data-job-status]').innerText()).toBe('failed');
    await page.context().close();
  });
});
