// A server hammered from the first millisecond of its start: health checks, the API and agent
// upgrades must meet a finished router (no exit, no 404 or 5xx for a route that exists) on
// every one of 20 starts, with the embedded pool and its Docker probe in the start path.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { ADMIN_TOKEN, AGENT_TOKEN, freePort, KILN, killAll } from '../helpers/kiln.js';

const STARTS = 20;

beforeAll(isolateGit);
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

/** One request; null when nothing listens yet (connection refused or reset). */
async function status(url: string, init: RequestInit = {}): Promise<number | null> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null;
  }
}

function upgrade(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(null));
  });
}

describe('a server that is asked things while it starts', () => {
  let repo: TestRepo;
  beforeAll(async () => {
    repo = await createRepo();
    await repo.commit({ "pipeline.yml": "jobs:\n  one:\n    steps: [{ run: \"true\" }]\n" });
  });

  it(`answers every route that exists once it answers at all, on ${STARTS} starts`, async () => {
    const dataDir = await makeTempDir('kiln-data-');
    const cwd = await makeTempDir('kiln-cwd-');
    // No `pools:` key: the embedded local pool runs, with its Docker probe.
    await writeFile(join(cwd, 'kiln.yml'), `repos:\n  - { name: web, path: ${JSON.stringify(repo.path)} }\n`);
    const bad: string[] = [];
    for (let start = 0; start < STARTS; start++) {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const proc = spawn(process.execPath, [KILN, 'server'], {
        cwd, stdio: 'ignore',
        env: { ...process.env, KILN_PORT: String(port), KILN_HOST: '127.0.0.1', KILN_DATA: dataDir, KILN_ADMIN_TOKEN: ADMIN_TOKEN, KILN_AGENT_TOKEN: AGENT_TOKEN, KILN_LOG_LEVEL: 'warn' },
      });
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      let gone = false;
      void exited.then(() => (gone = true));
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const probes: Array<[string, () => Promise<number | null>, number]> = [
        ['GET /healthz', () => status(`${base}/healthz`), 200],
        ['GET /api/repos', () => status(`${base}/api/repos`), 200],
        ['GET /api/repos/web/runs', () => status(`${base}/api/repos/web/runs`, { headers: auth }), 200],
        ['GET /api/queue', () => status(`${base}/api/queue`), 200],
        ['GET /', () => status(`${base}/`), 200],
        ['upgrade /agent', () => upgrade(`ws://127.0.0.1:${port}/agent`), 101],
      ];
      let answered = 0;
      // Hammer until every probe has answered a few times after the first answer.
      while (!gone && answered < 5 * probes.length) {
        const results = await Promise.all(probes.map(async ([name, probe, want]) => [name, await probe(), want] as const));
        for (const [name, got, want] of results) {
          if (got === null) continue;
          answered++;
          if (got !== want) bad.push(`start ${start + 1}: ${name} → ${got}`);
        }
      }
      expect(gone, `the server exited during start ${start + 1}`).toBe(false);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(bad).toEqual([]);
  }, 240_000);
});
