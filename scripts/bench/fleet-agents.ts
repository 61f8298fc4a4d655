// Simulated agents for the fleet benchmark, in a process of their own: N WebSockets that speak
// the real agent protocol (hello/welcome; per job its steps running → success, one log chunk,
// done; acks counted) and do no work, so the figures are the server's. The protocol version is
// this tree's, and lease tokens are echoed as they came, so the script runs on any version.
//
// Started by fleet.ts with `fork(…, [url, agentToken, count])`; over the IPC channel it sends
// {type:'ready'} when every agent was welcomed, and answers {type:'collect', doneAcks} (a total)
// with the assignment arrivals since the last collect once that many `done-ack`s have come.
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';

interface Assignment { jobId: number; attempt: number; token: unknown; job: { steps: unknown[] } }
type ServerFrame =
  | { type: 'welcome' }
  | { type: 'job'; assignment: Assignment }
  | { type: 'ack' | 'done-ack' | 'cancel' | 'drain' }
  | { type: 'error'; message: string };

const CONNECTING = 50; // hellos in flight at once while the fleet connects
const [serverUrl, token, countText] = process.argv.slice(2);
const count = Number(countText);
const nowMs = () => performance.timeOrigin + performance.now();
const send = (parent: Record<string, unknown>) => process.send!(parent);

const stats = { acks: 0, doneAcks: 0, logsSent: 0, donesSent: 0, unexpectedFrames: 0, closedAfterWelcome: 0 };
let arrivals: Array<[jobId: number, atMs: number]> = [];
let collecting: number | null = null;

/** Answers a pending collect once enough jobs were acknowledged as done. */
function maybeCollected(): void {
  if (collecting === null || stats.doneAcks < collecting) return;
  collecting = null;
  send({ type: 'collected', arrivals, ...stats });
  arrivals = [];
}

/** A job: do nothing, report it all at once, as an agent would whose steps take no time. */
function work(ws: WebSocket, a: Assignment): void {
  arrivals.push([a.jobId, nowMs()]);
  const at = Date.now();
  const base = { jobId: a.jobId, token: a.token };
  const frames: object[] = [];
  a.job.steps.forEach((_, index) => {
    frames.push({ type: 'step', ...base, index, status: 'running', exitCode: null, at });
    if (index === 0) frames.push({ type: 'log', ...base, attempt: a.attempt, seq: 0, lines: [{ t: at, stream: 'stdout', text: 'hello', step: 0 }] });
    frames.push({ type: 'step', ...base, index, status: 'success', exitCode: 0, at });
  });
  frames.push({ type: 'done', ...base, attempt: a.attempt, status: 'success', exitCode: 0, reason: null, lastSeq: a.job.steps.length > 0 ? 0 : -1, at });
  for (const frame of frames) ws.send(JSON.stringify(frame));
  stats.logsSent += a.job.steps.length > 0 ? 1 : 0;
  stats.donesSent++;
}

function connect(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${serverUrl!.replace(/^http/, 'ws')}/agent`, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
    let welcomed = false;
    ws.once('open', () => ws.send(JSON.stringify({
      type: 'hello', protocol: PROTOCOL_VERSION, name: `fleet-${index}`, labels: ['linux'], capacity: 1, version: 'bench', pool: null, jobs: [],
    })));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      switch (frame.type) {
        case 'welcome': welcomed = true; resolve(); return;
        case 'job': work(ws, frame.assignment); return;
        case 'ack': stats.acks++; return;
        case 'done-ack': stats.doneAcks++; maybeCollected(); return;
        default: stats.unexpectedFrames++;
      }
    });
    ws.on('error', (error) => { if (!welcomed) reject(error); });
    ws.once('close', (code, reason) => {
      if (welcomed) stats.closedAfterWelcome++;
      else reject(new Error(`agent fleet-${index} closed before welcome: ${code} ${reason.toString()}`));
    });
  });
}

async function connectAll(): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await connect(next++);
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTING, count) }, worker));
}

process.on('message', (message: { type: string; doneAcks?: number }) => {
  if (message.type !== 'collect') return;
  collecting = message.doneAcks ?? 0;
  maybeCollected();
});
process.on('disconnect', () => process.exit(0)); // the parent is gone: so are we
const started = nowMs();
connectAll().then(
  () => send({ type: 'ready', agents: count, connectMs: nowMs() - started }),
  (error: unknown) => send({ type: 'failed', error: error instanceof Error ? error.message : String(error) }),
);
