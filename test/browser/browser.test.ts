// The browser harness itself: Debian's Chromium, driven by playwright-core, reaches a real
// kiln server over loopback and sees a running job's numbered lines in `GET /api/jobs/:id/lines`.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';
import type { TestRepo } from '../helpers/git.js';
import { ADMIN_TOKEN, runEnded, runOfCommit, type ServerProcess } from '../helpers/kiln.js';

describe.skipIf(skipBrowser())('the browser harness', () => {
  const fx = useBrowserFixture();
  let browser!: Browser;
  let server!: ServerProcess;
  let repo!: TestRepo;
  beforeAll(() => void ({ browser, server, repo } = fx));

  it('launches headless Chromium on a fresh profile and loads the server over loopback', async () => {
    const page = await newPage(browser);
    const response = await page.goto(`${server.url}/healthz`);
    expect(response?.status()).toBe(200);
    expect(JSON.parse(await page.locator('body').innerText())).toEqual({ status: 'ok' });
    expect(await page.evaluate(() => [(globalThis as any).innerWidth, (globalThis as any).innerHeight])).toEqual([1280, 800]);
    await page.context().close();
  });

  it("reads a job's numbered lines from the page, with the admin token", async () => {
    const sha = await repo.commit({ 'pipeline.yml': 'jobs:\n  hello:\n    steps: [{ run: "echo one; echo two; printf \'\\\\033[31mred\\\\033[0m\\\\n\'" }]\n' });
    const run = await runOfCommit(server, 'web', sha);
    expect((await runEnded(server, run.id)).status).toBe('success');
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const page = await context.newPage();
    await page.goto(`${server.url}/healthz`); // same origin for the page's fetch
    const answer: any = await page.evaluate(async (path) => (await fetch(path)).json(), `/api/jobs/${run.jobs[0].id}/lines?from=1`);
    const texts = (answer.lines as Array<{ n: number; text: string }>).map((l) => l.text);
    expect(texts).toEqual(expect.arrayContaining(['one', 'two', '\u001b[31mred\u001b[0m']));
    const numbers = (answer.lines as Array<{ n: number }>).map((l) => l.n);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    await context.close();
  });
});
