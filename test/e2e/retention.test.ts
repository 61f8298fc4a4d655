// End to end: a real server with `server.retention` settings and a real agent. A run's job
// finishes, `POST /api/retention/sweep` (admin only) removes its log lines once they are older
// than `logs`, and the log route then answers 410 naming the policy instead of an empty log;
// `GET /api/usage` counts the log's bytes before and none after; the job page says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, jobOf, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({
    config: `repos:\n  - { name: web, path: ${JSON.stringify(repo.path)} }\npools: []\nserver:\n  lease_timeout: 5s\n  retention: { runs: 180d, logs: 1s, keep_last: 20, interval: 1h }\n`,
  });
  await startAgent(server, { name: 'retention-agent' });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('retention on a real server', () => {
  it('removes a finished job\'s log past `logs`; the log route then answers 410', async () => {
    const sha = await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps:\n      - run: echo kept-for-a-second\n' }, 'build');
    const run = await runEnded(server, (await runOfCommit(server, 'web', sha)).id);
    expect(run.status).toBe('success');
    const job = await jobOf(server, run.id, 'build');
    expect(await jobLog(server, job.id)).toContain('kept-for-a-second');
    const before = (await server.api('GET', '/api/usage')).body;
    expect(before.byKind.database).toBeGreaterThan(0);
    expect(before.byRepo).toEqual([expect.objectContaining({ repo: 'web', artifacts: 0, caches: 0 })]);
    expect(before.byRepo[0].logs).toBeGreaterThan(0);
    expect(before.byRepo[0].mirror).toBeGreaterThan(0);
    expect(before.byKind.mirrors).toBe(before.byRepo[0].mirror);

    expect((await server.api('POST', '/api/retention/sweep', undefined, null)).status).toBe(401);
    const swept = await eventually(async () => {
      const answer = await server.api('POST', '/api/retention/sweep');
      expect(answer.status).toBe(200);
      return answer.body.logs > 0 ? answer.body : null;
    }, 15_000, 'a sweep that removes the log');
    expect(swept).toMatchObject({ runs: 0, logs: 1 });

    const log = await server.api('GET', `/api/jobs/${job.id}/log`);
    expect(log.status).toBe(410);
    expect(log.body.error).toMatch(/^this log was removed by the retention policy \(logs: 1s\) on \d{4}-\d\d-\d\dT/);
    expect((await server.api('GET', `/api/runs/${run.id}`)).status).toBe(200);
    expect((await server.api('GET', '/api/usage')).body.byRepo[0].logs).toBe(0);
    const page = await (await fetch(`${server.url}/runs/${run.id}/jobs/${job.id}`)).text();
    expect(page).toContain('This log was removed by the retention policy (logs: 1s)');
    expect(page).not.toContain('data-log-viewer');
  });
});
