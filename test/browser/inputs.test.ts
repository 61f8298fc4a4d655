// The run form's inputs in a real browser: a field per declared input with its default, a
// refused run (a required value missing) shows the error on the form and keeps what was entered,
// and a run started from the form shows its inputs on the run page and in its job's log.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { logIn, newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';
import type { TestRepo } from '../helpers/git.js';
import { jobLog, runEnded, runOfCommit, type ServerProcess } from '../helpers/kiln.js';

const PIPELINE = `on:
  push: true
  manual:
    inputs:
      version: {type: string, required: true, description: the release to deploy}
      target: {type: choice, options: [staging, production], default: staging}
      dry-run: {type: boolean}
      replicas: {type: number, default: 2}
jobs:
  deploy:
    steps:
      - run: echo "deploying \${{ inputs.version }} to $KILN_INPUT_TARGET dry=$KILN_INPUT_DRY_RUN x\${{ inputs.replicas }}"
`;

describe.skipIf(skipBrowser())('the run form with inputs', () => {
  const fx = useBrowserFixture();
  let browser!: Browser;
  let server!: ServerProcess;
  let repo!: TestRepo;
  beforeAll(async () => {
    ({ browser, server, repo } = fx);
    await runEnded(server, (await runOfCommit(server, 'web', await repo.commit({ 'pipeline.yml': PIPELINE }, 'inputs'))).id);
  });

  it('refuses a run without a required value on the form, keeping the values entered, then starts it', async () => {
    const page = await newPage(browser);
    await logIn(page, server.url);
    await page.goto(`${server.url}/repos/web`);
    const form = page.locator('form:has([data-run-inputs])');
    expect(await form.locator('#input-version').inputValue()).toBe('');
    expect(await form.locator('#input-target').inputValue()).toBe('staging');
    expect(await form.locator('#input-replicas').inputValue()).toBe('2');
    expect(await form.locator('#input-dry-run').isChecked()).toBe(false);
    expect(await form.locator('[data-input="version"]').innerText()).toContain('(required) the release to deploy');

    const runsBefore = (await server.api('GET', '/api/repos/web/runs')).body.length;
    await form.locator('#input-target').selectOption('production');
    await form.locator('#input-dry-run').check();
    await form.locator('#input-replicas').fill('3');
    await form.getByRole('button', { name: 'Run branch' }).click();
    await page.waitForSelector('.error-box');
    expect(new URL(page.url()).pathname).toBe('/repos/web');
    expect(await page.locator('.error-box').innerText()).toBe('input "version" is required (the release to deploy)');
    expect(await form.locator('#input-target').inputValue()).toBe('production');
    expect(await form.locator('#input-dry-run').isChecked()).toBe(true);
    expect(await form.locator('#input-replicas').inputValue()).toBe('3');
    expect((await server.api('GET', '/api/repos/web/runs')).body.length).toBe(runsBefore);

    await form.locator('#input-version').fill('3.1.0');
    await Promise.all([page.waitForURL(/\/runs\/\d+$/), form.getByRole('button', { name: 'Run branch' }).click()]);
    const runId = Number(new URL(page.url()).pathname.split('/').pop());
    expect(await page.locator('[data-inputs] [data-input="version"]').innerText()).toBe('3.1.0');
    expect(await page.locator('[data-inputs] [data-input="target"]').innerText()).toBe('production');
    expect(await page.locator('[data-inputs] [data-input="dry-run"]').innerText()).toBe('true');
    const run = await runEnded(server, runId);
    expect(run).toMatchObject({ status: 'success', event: 'manual', inputs: { version: '3.1.0', target: 'production', 'dry-run': true, replicas: 3 } });
    expect(await jobLog(server, run.jobs[0].id)).toContain('deploying 3.1.0 to production dry=true x3');
    await page.context().close();
  });
});
