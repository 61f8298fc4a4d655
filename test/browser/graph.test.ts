// The run graph in a real browser: a matrix job's combinations are framed together under the
// job's name, and each box shows its whole combination, inside the box (nothing cut off).
import { describe, expect, it } from 'vitest';
import { newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';
import { runEnded, runOfCommit } from '../helpers/kiln.js';

describe.skipIf(skipBrowser())('the run graph', () => {
  const fx = useBrowserFixture({ capacity: 2 });

  it('groups a matrix job\'s combinations under the job and shows each combination in full', async () => {
    const sha = await fx.repo.commit({
      'pipeline.yml': [
        'jobs:',
        '  lint:',
        '    steps: [{ run: echo lint }]',
        '  test:',
        '    matrix: { suite: [unit, e2e], mode: [integration-with-database] }',
        '    steps: [{ run: echo test }]',
        '',
      ].join('\n'),
    });
    const run = await runOfCommit(fx.server, 'web', sha);
    expect((await runEnded(fx.server, run.id)).status).toBe('success');
    const page = await newPage(fx.browser);
    await page.goto(`${fx.server.url}/runs/${run.id}`);
    const group = page.locator('svg.graph g[data-matrix-group="test"]');
    expect(await group.locator('text.group').textContent()).toBe('test');
    const names = page.locator('svg.graph a[data-job^="test ("] text.name');
    expect(await names.allTextContents()).toEqual(['suite=unit, mode=integration-with-database', 'suite=e2e, mode=integration-with-database']);
    const frame = await group.locator('rect').boundingBox();
    for (const job of ['test (suite=unit, mode=integration-with-database)', 'test (suite=e2e, mode=integration-with-database)']) {
      const box = page.locator(`svg.graph a[data-job="${job}"]`);
      const [rect, text] = await Promise.all([box.locator('rect').boundingBox(), box.locator('text.name').boundingBox()]);
      expect(text!.x + text!.width).toBeLessThanOrEqual(rect!.x + rect!.width); // the label fits its box
      expect(rect!.y).toBeGreaterThan(frame!.y); // inside the group's frame
      expect(rect!.y + rect!.height).toBeLessThanOrEqual(frame!.y + frame!.height);
      expect(await box.locator('title').textContent()).toBe(`${job}: success`);
    }
    expect(await page.locator('svg.graph a[data-job="lint"] text.name').textContent()).toBe('lint');
    await page.context().close();
  });
});
