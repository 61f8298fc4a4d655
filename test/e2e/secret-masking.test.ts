// End to end: a step prints its secrets in every form kiln masks (plain, base64 at three
// byte offsets, base64url, URL-encoded, JSON-escaped, a multi-line value, and cut across two
// writes, and base64 wrapped over lines), and a value of its own through `::add-mask::`. None of them is in the stored log,
// the lines API, the events stream, or any file of the server's data folder or the agent's
// work folder.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64Inner, secretForms } from '../../shared/secrets/forms.js';
import { folderBytes } from '../helpers/files.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, killAll, startAgent, startServer } from '../helpers/kiln.js';

const TOKEN = 'Tr0ub4dor&3 "horse" /battery+staple=é?';
const KEY = '-----BEGIN KILN TEST KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeK\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ\n-----END KILN TEST KEY-----';

/** Every text that would betray `value`: its masked forms and its stable base64 at each offset. */
function tells(value: string): string[] {
  const bytes = Buffer.from(value);
  const inner = [0, 1, 2].map((offset) => base64Inner(bytes, offset));
  return [...new Set([...secretForms(value), ...inner, ...inner.map((s) => s.replace(/\+/g, '-').replace(/\//g, '_'))])];
}

function found(haystack: string | Buffer, values: string[]): string[] {
  return values.flatMap((value) => tells(value).filter((t) => haystack.includes(t)).map((t) => `${JSON.stringify(t)} (of ${JSON.stringify(value.slice(0, 12))}…)`));
}

const PIPELINE = (gate: string) => `jobs:
  leak:
    secrets: [TOKEN, KEY]
    steps:
      - name: wait for the test to listen
        run: while [ ! -e ${gate} ]; do sleep 0.05; done
      - name: print the secrets
        shell: bash -e
        run: |
          echo "plain=$TOKEN"
          printf 'b64-0='; printf '%s' "$TOKEN" | base64 -w0; echo
          printf 'b64-1='; printf 'x%s' "$TOKEN" | base64 -w0; echo
          printf 'b64-2='; printf 'xy%s' "$TOKEN" | base64 -w0; echo
          printf 'b64url='; printf '%s' "$TOKEN" | base64 -w0 | tr '+/' '-_' | tr -d '='; echo
          printf 'url='; node -e 'process.stdout.write(encodeURIComponent(process.env.TOKEN))'; echo
          printf 'json='; node -e 'process.stdout.write(JSON.stringify({ token: process.env.TOKEN }))'; echo
          echo "key follows"; printf '%s\\n' "$KEY"
          echo "wrapped follows"; printf 'xy%s' "$KEY" | base64; echo "$TOKEN" | base64
          printf 'split='; printf %s "\${TOKEN:0:5}"; sleep 0.1; printf %s "\${TOKEN:5}"; echo
      - name: mask a value made at run time
        run: |
          V=$(printf '%s' "$KILN_RUN_ID-$KILN_COMMIT_SHA" | sha256sum | cut -c1-32)
          echo "::add-mask::$V"
          echo "made=$V"
          printf 'made-b64='; printf '%s' "$V" | base64 -w0; echo
`;

let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('secret masking', () => {
  it('finds no form of a secret, nor of an ::add-mask:: value, in the log, the lines API, the events or any file', async () => {
    const gate = join(await makeTempDir('kiln-gate-'), 'open');
    const sha = await repo.commit({ 'pipeline.yml': PIPELINE(gate) });
    const server = await startServer({ repos: { web: repo.path } });
    expect((await server.api('PUT', '/api/repos/web/secrets/TOKEN', { value: TOKEN })).status).toBe(200);
    expect((await server.api('PUT', '/api/repos/web/secrets/KEY', { value: KEY })).status).toBe(200);
    const agent = await startAgent(server);

    const events: string[] = [];
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/events`);
    ws.on('message', (data) => events.push(data.toString()));
    await new Promise((resolve) => ws.once('open', resolve));

    const run = (await server.api('POST', '/api/repos/web/runs', { ref: 'main' })).body;
    expect(run.sha).toBe(sha);
    const jobId: number = run.jobs[0].id;
    ws.send(JSON.stringify({ subscribe: { job: jobId } }));
    await eventually(() => events.some((e) => e.includes('"subscribed"')), 5000, 'the subscription');
    writeFileSync(gate, '');
    // The job's final event comes after its log events (the agent sends its chunks before its result).
    const ended = await eventually(() => events.map((e) => JSON.parse(e)).find((e) => e.type === 'job' && e.job.id === jobId && ['success', 'failed', 'error'].includes(e.job.status)), 60_000, 'the job to end');
    expect(ended.job.status).toBe('success');
    ws.close();

    const made = createHash('sha256').update(`${run.id}-${sha}`).digest('hex').slice(0, 32);
    const values = [TOKEN, KEY, made];

    // The log says what was printed, masked.
    const log = await jobLog(server, jobId);
    for (const label of ['plain=', 'b64-0=', 'b64-1=', 'b64-2=', 'b64url=', 'url=', 'json=', 'split=', 'made=', 'made-b64=']) {
      const line = log.find((l) => l.startsWith(label));
      expect(line, label).toContain('***');
    }
    expect(log.slice(log.indexOf('key follows') + 1, log.indexOf('key follows') + 5)).toEqual(['***', '***', '***', '***']);
    expect(log.some((l) => l.includes('add-mask'))).toBe(false);
    expect(found(log.join('\n'), values)).toEqual([]);
    // Base64 that `base64` wrapped over lines: no 12 characters of it are left, even with the lines joined.
    const unwrapped = log.join('');
    for (const offset of [0, 1, 2]) {
      for (const value of [TOKEN, KEY]) {
        const inner = base64Inner(Buffer.from(value), offset);
        for (let at = 0; at + 12 <= inner.length; at++) expect(unwrapped).not.toContain(inner.slice(at, at + 12));
      }
    }

    const lines = await server.api('GET', `/api/jobs/${jobId}/lines?from=1&limit=1000`);
    expect(lines.status).toBe(200);
    expect(lines.body.lines.length).toBe(log.length);
    expect(found(JSON.stringify(lines.body), values)).toEqual([]);

    const logEvents = events.filter((e) => e.includes('"type":"log"'));
    expect(logEvents.join('\n')).toContain('plain=***');
    expect(found(events.join('\n'), values)).toEqual([]);

    await killAll(); // the database's WAL is checkpointed, the spool flushed
    expect(found(folderBytes(server.dataDir), values)).toEqual([]);
    expect(found(folderBytes(agent.workDir), values)).toEqual([]);
  }, 90_000);
});
