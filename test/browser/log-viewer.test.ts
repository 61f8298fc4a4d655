// The job log viewer (`/runs/:id/jobs/:jobId`) in a real browser (SPEC §6), against a real
// server, agent and git repo: live follow, ANSI colours, `#L<n>` links, a 1,000,000-line log.
//
// What it assumes of the page (from the issue): each line it shows is an element with
// `id="L<n>"` (1-based, as `GET /api/jobs/:id/lines` numbers them); it follows the end live
// over /api/events; `#L<n>` scrolls to that line and highlights it; ANSI SGR colours become
// spans; only a window of a long log is in the DOM.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { inViewport, newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';
import type { TestRepo } from '../helpers/git.js';
import { useTempDirs } from '../helpers/tmp.js';
import { eventually, runEnded, runOfCommit, type ServerProcess } from '../helpers/kiln.js';

type Lines = { total: number; lines: Array<{ n: number; t: number | null; text: string }> };

/** Waits in the page for line `n` to be in the DOM and visible; resolves with the page's Date.now() then. */
async function lineShown(page: Page, n: number, timeoutMs = 10_000): Promise<number> {
  const handle = await page.waitForFunction((n) => {
    const w = globalThis as any;
    const el = w.document.getElementById(`L${n}`);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.bottom > 0 && r.top < w.innerHeight ? w.Date.now() : false;
  }, n, { timeout: timeoutMs, polling: 'raf' });
  return (await handle.jsonValue()) as number;
}

describe.skipIf(skipBrowser())('the job log viewer in a browser', () => {
  const fx = useBrowserFixture({ capacity: 4 });
  const tempDir = useTempDirs('kiln-gate-');
  let browser!: Browser;
  let server!: ServerProcess;
  let repo!: TestRepo;
  beforeAll(() => void ({ browser, server, repo } = fx));
  const startJob = (name: string, script: string) => fx.startJob(name, script);
  const lines = async (jobId: number, query = '') => (await server.api<Lines>('GET', `/api/jobs/${jobId}/lines${query}`)).body;

  it("shows a running job's new lines without a reload, within 1 s of their time in the API", async () => {
    const { runId, jobId } = await startJob('ticker', 'for i in $(seq 1 150); do echo "tick $i"; sleep 0.2; done');
    await eventually(async () => (await lines(jobId)).total >= 3, 15_000, 'the first ticks');
    const page = await newPage(browser);
    await page.goto(`${server.url}/runs/${runId}/jobs/${jobId}`);
    await page.evaluate(() => { (globalThis as any).__notReloaded = true; });
    const lags: number[] = [];
    for (let k = 0; k < 3; k++) {
      const target = (await lines(jobId)).total + 3;      // a line not printed yet
      const shownAt = await lineShown(page, target, 5000);
      const line = (await lines(jobId, `?from=${target}&limit=1`)).lines[0]!;
      expect(line.text).toMatch(/^tick \d+$/);
      expect(line.t).toEqual(expect.any(Number));
      const printedAt = line.t! < 1e12 ? line.t! * 1000 : line.t!;
      lags.push(shownAt - printedAt);
      expect(await page.locator(`#L${target}`).innerText()).toContain(line.text);
    }
    expect(await page.evaluate(() => (globalThis as any).__notReloaded)).toBe(true);
    console.log(`live log lag (ms): ${lags.join(', ')}`);
    expect(Math.max(...lags)).toBeLessThan(1000);
    await server.api('POST', `/api/runs/${runId}/cancel`);
    await page.context().close();
  });

  it('renders ANSI colours: \\e[31mred\\e[0m is a span with a red computed colour', async () => {
    const { runId, jobId } = await startJob('colours', "echo plain\nprintf 'before \\033[31mred\\033[0m after\\n'");
    expect((await runEnded(server, runId)).status).toBe('success');
    const n = (await lines(jobId, '?from=1')).lines.find((l) => l.text.includes('\u001b[31m'))!.n;
    const page = await newPage(browser);
    await page.goto(`${server.url}/runs/${runId}/jobs/${jobId}`);
    await lineShown(page, n);
    const row = page.locator(`#L${n}`);
    expect(await row.innerText()).toContain('before red after');
    expect(await row.innerText()).not.toContain('[31m');
    const colour = await row.locator('span', { hasText: /^red$/ }).last().evaluate((el) => (globalThis as any).getComputedStyle(el).color as string);
    const [r, gr, b] = colour.match(/\d+(\.\d+)?/g)!.map(Number) as [number, number, number];
    expect(r, colour).toBeGreaterThan(180);              // red: well above green and blue
    expect(r - Math.max(gr, b), colour).toBeGreaterThan(80);
    const plain = await page.locator(`#L${n - 1}`).evaluate((el) => (globalThis as any).getComputedStyle(el).color as string);
    expect(plain).not.toBe(colour);
    await page.context().close();
  });

  it('#L120 scrolls to line 120 and highlights it', async () => {
    const { runId, jobId } = await startJob('numbers', 'seq 1 500');
    expect((await runEnded(server, runId)).status).toBe('success');
    const n = (await lines(jobId, '?from=1&limit=5000')).lines.find((l) => l.text === '120')!.n;
    const page = await newPage(browser);
    await page.goto(`${server.url}/runs/${runId}/jobs/${jobId}#L${n}`);
    await lineShown(page, n);
    expect(await inViewport(page, `#L${n}`)).toBe(true);
    expect(await page.locator(`#L${n}`).innerText()).toContain('120');
    // Highlighted: its background differs from its neighbours' (whatever class or :target does it).
    const background = (m: number) => page.locator(`#L${m}`).evaluate((el) => {
      const w = globalThis as any;
      for (let e = el; e; e = e.parentElement) {
        const bg = w.getComputedStyle(e).backgroundColor as string;
        if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
      }
      return 'none';
    });
    expect(await background(n)).not.toBe(await background(n + 2));
    // The end of the log (line 500) is not what the page shows: it did not follow past the anchor.
    expect(await page.locator(`#L${n + 300}`).count() === 0 || !(await inViewport(page, `#L${n + 300}`))).toBe(true);
    await page.context().close();
  });

  it("updates the job's and the step's status pills live when the job ends", async () => {
    const gate = join(await tempDir(), 'go');
    const { runId, jobId } = await startJob('pills', `echo waiting\nwhile [ ! -f ${gate} ]; do sleep 0.1; done\necho done`);
    await eventually(async () => (await lines(jobId)).lines.some((l) => l.text === 'waiting'), 15_000, 'the job waiting at its gate');
    const page = await newPage(browser);
    await page.goto(`${server.url}/runs/${runId}/jobs/${jobId}`);
    await page.locator('.log-viewer.ready').waitFor();
    expect(await page.locator('[data-job-status]').innerText()).toBe('running');
    expect(await page.locator('[data-step-name] .status').innerText()).toBe('running');
    writeFileSync(gate, '');
    await page.locator('[data-job-status]', { hasText: 'success' }).waitFor();
    await page.locator('[data-step-name] .status', { hasText: 'success' }).waitFor();
    await page.context().close();
  });

  it('finds text in the log (next, previous) and folds a step to its marker line', async () => {
    const { runId, jobId } = await startJob('tools', 'seq 1 300\necho needle one\nseq 1 300\necho needle two');
    expect((await runEnded(server, runId)).status).toBe('success');
    const needles = (await lines(jobId, '?from=1&limit=5000')).lines.filter((l) => l.text.startsWith('needle')).map((l) => l.n);
    const marker = (await lines(jobId, '?from=1&limit=50')).lines.find((l) => l.text.startsWith('\u25b6 '))!.n;
    expect(needles).toHaveLength(2);
    const page = await newPage(browser);
    await page.goto(`${server.url}/runs/${runId}/jobs/${jobId}`);
    await page.locator('.log-viewer.ready').waitFor();

    await page.locator('.log-search input').fill('needle');
    await page.locator('.log-search input').press('Enter');
    await page.locator('.log-search-info', { hasText: '1 of 2' }).waitFor();
    await lineShown(page, needles[0]!);
    expect(await page.locator(`#L${needles[0]}`).getAttribute('class')).toMatch(/\bhit current\b/);
    await page.locator('.log-next').click();
    await page.locator('.log-search-info', { hasText: '2 of 2' }).waitFor();
    await lineShown(page, needles[1]!);
    await page.locator('.log-prev').click();
    await page.locator('.log-search-info', { hasText: '1 of 2' }).waitFor();

    await page.evaluate((n) => { (globalThis as any).location.hash = `#L${n}`; }, marker);
    await lineShown(page, marker);
    await page.locator(`#L${marker} button[data-fold]`).click();
    await page.locator(`#L${marker}.folded`).waitFor();
    expect(await page.locator(`#L${marker + 1}`).count()).toBe(0);   // the step's lines are hidden
    await page.locator(`#L${marker} button[data-fold]`).click();
    await lineShown(page, marker + 1);
    await page.context().close();
  });

  it('opens a 1,000,000-line log in under 2 s (navigation start to last line visible) and scrolls it', async () => {
    const { runId, jobId } = await startJob('million', 'seq 1 1000000');
    expect((await runEnded(server, runId, 120_000)).status).toBe('success');
    const total = (await lines(jobId, '?limit=1')).total;
    expect(total).toBeGreaterThanOrEqual(1_000_000);
    const last = (await lines(jobId, '?limit=5')).lines.find((l) => l.text === '1000000')!.n;
    const first = (await lines(jobId, '?from=1&limit=50')).lines.find((l) => l.text === '1')!.n;

    const page = await newPage(browser);
    await page.goto(`${server.url}/runs/${runId}/jobs/${jobId}`, { waitUntil: 'commit' });
    // performance.now() counts from the navigation's start.
    const openedMs = (await (await page.waitForFunction((n) => {
      const w = globalThis as any;
      const el = w.document.getElementById(`L${n}`);
      if (!el) return false;
      const r = el.getBoundingClientRect();
      return r.height > 0 && r.bottom > 0 && r.top < w.innerHeight ? w.performance.now() : false;
    }, last, { timeout: 20_000, polling: 'raf' })).jsonValue()) as number;
    const domRows = await page.locator('[id^="L"]').count();
    console.log(`1,000,000-line log: last line visible ${openedMs.toFixed(0)} ms after navigation start; ${domRows} line elements in the DOM`);
    expect(openedMs).toBeLessThan(2000);
    expect(domRows).toBeLessThan(5000); // virtualized

    // Scroll: a few frames of wheel-sized steps upwards, then to the top; line 1 shows.
    const frames = await page.evaluate((n) => new Promise<number[]>((resolve) => {
      const w = globalThis as any;
      let box = w.document.getElementById(`L${n}`);
      while (box && !(box.scrollHeight > box.clientHeight + 1 && /(auto|scroll)/.test(w.getComputedStyle(box).overflowY))) box = box.parentElement;
      const scroller = box ?? w.document.scrollingElement;
      const times: number[] = [];
      let i = 0;
      const step = (t: number) => {
        times.push(t);
        scroller.scrollTop -= i < 30 ? 400 : 200_000;
        if (++i < 60) w.requestAnimationFrame(step); else { scroller.scrollTop = 0; resolve(times.slice(1).map((x, j) => x - times[j]!)); }
      };
      w.requestAnimationFrame(step);
    }), last);
    frames.sort((a, b) => a - b);
    const p50 = frames[Math.floor(frames.length / 2)]!;
    const p95 = frames[Math.floor(frames.length * 0.95)]!;
    console.log(`scrolling frames (ms): p50 ${p50.toFixed(1)}, p95 ${p95.toFixed(1)}, max ${frames[frames.length - 1]!.toFixed(1)}`);
    // After a fling through ~60 pages the viewer fetches the top page among the others; under
    // a loaded CI machine that once took over 5 s (the opening bound above is the 2 s).
    await lineShown(page, first, 10_000);
    expect(await page.locator(`#L${first}`).innerText()).toContain('1');
    expect(p50).toBeLessThan(100); // roughly: no multi-frame stall per scroll step
    await page.context().close();
  }, 180_000);
});
