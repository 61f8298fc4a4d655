// Log chunks from an agent, end to end on a real server process: a hand-driven agent on the
// real `/agent` WebSocket sends chunks with replays, gaps and late arrivals, before and after
// `done`; a dashboard on `/api/events` sees live lines numbered as the store numbers them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../../../shared/protocol/messages.js';
import { createRepo, isolateGit, removeTempDirs } from '../../helpers/git.js';
import { AGENT_TOKEN, eventually, killAll, startServer, type ServerProcess } from '../../helpers/kiln.js';

let server: ServerProcess;

beforeAll(async () => {
  await isolateGit();
  const repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    runs-on: [by-hand]\n    steps: [{ run: echo building }]\n' });
  server = await startServer({ repos: { web: repo.path } });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

interface Frame { type: string; [key: string]: any }

/** A WebSocket whose frames are kept, with a wait for the first one that matches. */
async function open(path: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`, { headers });
  const seen: Frame[] = [];
  ws.on('message', (data) => seen.push(JSON.parse(data.toString()) as Frame));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const next = (match: (f: Frame) => boolean, what: string) => eventually(() => seen.find(match), 10_000, what);
  return { ws, seen, next, send: (frame: object) => ws.send(JSON.stringify(frame)) };
}

const lines = (...texts: string[]) => texts.map((text) => ({ t: Date.now(), stream: 'stdout', text, step: 0 }));

describe('log chunks from an agent', () => {
  it('are numbered once by the store: live events, the lines API and the text log agree, and after done only the agent that ran the job adds lines', async () => {
    const run = (await server.api('POST', '/api/repos/web/runs', { ref: 'main' })).body;
    const jobId: number = run.jobs[0].id;
    const events = await open('/api/events');
    events.send({ subscribe: { job: jobId } });
    await events.next((f) => f.type === 'subscribed', 'subscribed');

    const agent = await open('/agent', { authorization: `Bearer ${AGENT_TOKEN}` });
    agent.send({ type: 'hello', protocol: PROTOCOL_VERSION, name: 'hand', labels: ['by-hand'], capacity: 1, version: 'test', pool: null, jobs: [] });
    const { assignment } = await agent.next((f) => f.type === 'job', 'the job');
    const { token, attempt } = assignment as { token: string; attempt: number };
    let acks = 0;
    const log = async (seq: number, texts: string[], as = token) => {
      agent.send({ type: 'log', jobId, token: as, attempt, seq, lines: lines(...texts) });
      acks++;
      await eventually(() => agent.seen.filter((f) => f.type === 'ack').length >= acks, 10_000, `ack of seq ${seq}`);
    };

    await log(0, ['a', 'b']);
    await log(0, ['a', 'b']);            // a replay after a reconnect
    await log(2, ['c\nd']);              // a gap; one line holding a newline is two
    await log(1, ['late']);              // behind the last seq: the server does not take it
    await log(3, ['e']);
    agent.send({ type: 'done', jobId, token, attempt, status: 'success', exitCode: 0, reason: null, lastSeq: 4, at: Date.now() });
    await agent.next((f) => f.type === 'done-ack', 'done-ack');
    await log(4, ['stolen'], 'x'.repeat(22)); // the agent token alone is not enough for a finished job
    await log(3, ['e']);                 // replayed after done: acknowledged, not doubled
    await log(4, ['f']);                 // the agent's last lines, after done: kept

    const stored = (await server.api('GET', `/api/jobs/${jobId}/lines?from=1&limit=100`)).body;
    expect(stored.lines.map((l: { n: number; text: string }) => [l.n, l.text])).toEqual([[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd'], [5, 'e'], [6, 'f']]);
    expect((await server.api('GET', `/api/jobs/${jobId}/log`)).body).toBe('a\nb\nc\nd\ne\nf\n');
    const live = await eventually(() => {
      const got = events.seen.filter((f) => f.type === 'log');
      return got.length >= 4 ? got : null;
    }, 10_000, 'four live log events');
    expect(live.map((e) => [e.first_line, e.lines.map((l: { n: number; text: string }) => [l.n, l.text])])).toEqual([
      [0, [[1, 'a'], [2, 'b']]], [2, [[3, 'c'], [4, 'd']]], [4, [[5, 'e']]], [5, [[6, 'f']]],
    ]);
    // Job events say which attempt the job's log shows, for live viewers.
    const ended = await events.next((f) => f.type === 'job' && f.job.id === jobId && f.job.status === 'success', 'the job event');
    expect(ended.job.shown_attempt).toBe(attempt);
    agent.ws.close();
    events.ws.close();
  });

  it('refuse a frame over the size limit: the connection closes with 1009, the server says why, and nothing of it is stored', async () => {
    const run = (await server.api('POST', '/api/repos/web/runs', { ref: 'main' })).body;
    const jobId: number = run.jobs[0].id;
    const agent = await open('/agent', { authorization: `Bearer ${AGENT_TOKEN}` });
    agent.send({ type: 'hello', protocol: PROTOCOL_VERSION, name: 'hand-big', labels: ['by-hand'], capacity: 1, version: 'test', pool: null, jobs: [] });
    const { assignment } = await agent.next((f) => f.type === 'job' && f.assignment.jobId === jobId, 'the job');
    const closed = new Promise<number>((resolve) => agent.ws.once('close', (code) => resolve(code)));
    agent.send({ type: 'log', jobId, token: assignment.token, attempt: assignment.attempt, seq: 0, lines: lines('x'.repeat(MAX_FRAME_BYTES)) });
    expect(await closed).toBe(1009);
    expect(agent.seen.filter((f) => f.type === 'ack')).toEqual([]);
    await eventually(() => server.output().includes('frame over the size limit'), 10_000, 'the log line');
    expect((await server.api('GET', `/api/jobs/${jobId}/log`)).body).toBe('');
  });
});
