// A pipeline that does not validate, in a real browser: the run page lists its problems one
// FILE:LINE:COL per line, and each links to that line of the file at the run's commit.
import { describe, expect, it } from 'vitest';
import { newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';
import { runEnded, runOfCommit } from '../helpers/kiln.js';

describe.skipIf(skipBrowser())('pipeline problems on the run page', () => {
  const fx = useBrowserFixture();

  it('lists each problem with a link to its line in the file at that commit', async () => {
    const yaml = 'jobs:\n  build:\n    steps:\n      - run: echo build\n  test:\n    needs: [biuld]\n    steps:\n      - run: echo test\n  lint:\n    runs-on: 3\n    steps: []\n';
    const sha = await fx.repo.commit({ 'pipeline.yml': yaml });
    const run = await runOfCommit(fx.server, 'web', sha);
    const ended = await runEnded(fx.server, run.id);
    const problems = (ended.error as string).split('\n');
    expect(problems.length).toBeGreaterThan(1);

    const page = await newPage(fx.browser);
    await page.goto(`${fx.server.url}/runs/${run.id}`);
    const items = page.locator('[data-problems] li');
    expect(await items.allInnerTexts()).toEqual(problems);
    const first = items.first().locator('a');
    const [, line] = /^pipeline\.yml:(\d+):\d+:/.exec(problems[0]!)!;
    expect(await first.getAttribute('href')).toBe(`/repos/web/at/${sha}/pipeline.yml#L${line}`);

    await first.click();
    await page.waitForURL(`${fx.server.url}/repos/web/at/${sha}/pipeline.yml#L${line}`);
    expect(await page.locator('main h1').innerText()).toContain('pipeline.yml');
    expect(await page.locator('.file-text tr').count()).toBe(yaml.trimEnd().split('\n').length);
    expect(await page.locator(`tr#L${line} pre`).innerText()).toBe(yaml.split('\n')[Number(line) - 1]);
    expect(await page.locator('tr:target').getAttribute('id')).toBe(`L${line}`);
    const missing = await page.goto(`${fx.server.url}/repos/web/at/${sha}/no-such-file.yml`);
    expect(missing?.status()).toBe(404);
    await page.context().close();
  });
});
