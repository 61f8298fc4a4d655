// The sweeper's batches leave room for other work: an HTTP request sent while a sweep of 50,000
// runs is under way is answered before that sweep ends.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRetentionSweeper } from '../../../server/retention/sweeper.js';
import { openSqlite } from '../../../server/store/index.js';
import { T0, tempStore } from '../store/fixtures.js';

const DAY = 86_400_000;

describe('the retention sweeper\'s batches', () => {
  it('let an HTTP request be answered in the middle of a 50k-row sweep', async () => {
    const { store, file, clock } = tempStore();
    const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
    const writer = openSqlite(file);
    const insert = writer.prepare(`INSERT INTO runs (repo_id, number, status, event, branch, sha, created_at, finished_at)
      VALUES (?, ?, 'success', 'push', 'main', ?, ?, ?)`);
    writer.transaction(() => { for (let n = 1; n <= 50_000; n++) insert.run(repo.id, n, 'a'.repeat(40), T0, T0); })();
    writer.close();
    clock.advance(181 * DAY);
    const sweeper = createRetentionSweeper({ store, logger: pino({ level: 'silent' }), now: clock.now, policy: { keepLast: 0 } });

    const http = createServer((_request, response) => response.end('pong'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const events: string[] = [];
    const sweep = sweeper.sweep().then((result) => { events.push('swept'); return result; });
    const answer = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`).then((r) => r.text());
    events.push(`answered ${answer}`);
    expect((await sweep).runs).toBe(50_000);
    http.close();
    expect(events).toEqual(['answered pong', 'swept']);
    expect(store.runs.listUnfinishedRuns()).toEqual([]);
  });
});
