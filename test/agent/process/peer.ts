// A real server-side peer for agent tests: HTTP on 127.0.0.1 port 0, the `/agent` WebSocket
// (decoded with the shared schema), and the repos' smart-HTTP git under `/git`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { WebSocketServer, type WebSocket } from 'ws';
import { createGitHttpBackend, requestToken } from '../../../server/git/http-backend.js';
import { encode, PROTOCOL_VERSION, type AgentMessage, type JobAssignment, type ServerMessage } from '../../../shared/protocol/messages.js';
import { decodeAgentMessage } from '../../../shared/protocol/agent-schema.js';
import type { PlannedStep } from '../../../shared/pipeline/types.js';
import { plannedJob } from '../../helpers/plan.js';

export type Hello = Extract<AgentMessage, { type: 'hello' }>;
export type LogMessage = Extract<AgentMessage, { type: 'log' }>;

export interface PeerOptions {
  token: string;
  /** Repo name → bare mirror folder. */
  mirrors?: Record<string, string>;
  leaseMs?: number;
  /** Listen on this port of 127.0.0.1 (a peer back after an outage); default: any free port. */
  port?: number;
  /** Answers `/api/…` requests (the artifact and cache routes: test/agent/files/contract-server.ts). */
  api?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** One accepted agent socket. Acks log chunks and dones as a server would, unless `autoAck` is off. */
export interface PeerConnection {
  socket: WebSocket;
  messages: AgentMessage[];
  /** Frames the shared schema refused (should stay empty). */
  errors: string[];
  autoAck: boolean;
  /** Stops pings and acks, as a frozen server would. */
  silent: boolean;
  hello: Promise<Hello>;
  send(message: ServerMessage): void;
  /** The first message (already received or future) that `match` accepts. */
  waitFor<T extends AgentMessage>(match: (m: AgentMessage) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(match: (m: AgentMessage) => boolean, timeoutMs?: number): Promise<AgentMessage>;
  logs(): LogMessage[];
  closed: Promise<void>;
}

export interface Peer {
  url: string;
  connections: PeerConnection[];
  /** Upgrade requests seen, refused ones included. */
  upgrades: number;
  /** While set, upgrades are answered with this status instead. */
  refuseWith: number | null;
  /** The lease announced in the next `welcome`s; default 30 s. */
  leaseMs: number;
  nextConnection(timeoutMs?: number): Promise<PeerConnection>;
  close(): Promise<void>;
}

export async function startPeer(o: PeerOptions): Promise<Peer> {
  const app = new Hono();
  app.route('/git', createGitHttpBackend({ mirrorDir: (name) => o.mirrors?.[name] ?? null, authorize: (req) => requestToken(req) === o.token }));
  const listener = getRequestListener(app.fetch);
  const server: Server = createServer((req, res) => (o.api && req.url?.startsWith('/api/') ? o.api(req, res) : void listener(req, res)));
  const wss = new WebSocketServer({ noServer: true });
  const waiting: Array<(c: PeerConnection) => void> = [];
  let handedOut = 0; // connections already returned by nextConnection
  const peer: Peer = {
    url: '',
    connections: [],
    upgrades: 0,
    refuseWith: null,
    leaseMs: o.leaseMs ?? 30_000,
    nextConnection(timeoutMs = 15_000) {
      const ready = peer.connections[handedOut];
      if (ready) {
        handedOut++;
        return Promise.resolve(ready);
      }
      return withTimeout(new Promise((resolve) => waiting.push(resolve)), timeoutMs, 'no agent connection');
    },
    async close() {
      for (const c of peer.connections) c.socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('upgrade', (req, socket, head) => {
    peer.upgrades++;
    const auth = req.headers.authorization ?? '';
    const status = auth !== `Bearer ${o.token}` ? 401 : peer.refuseWith;
    if (req.url !== '/agent' || status !== null) {
      socket.end(`HTTP/1.1 ${status ?? 404} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = accept(ws, () => peer.leaseMs);
      peer.connections.push(connection);
      const waiter = waiting.shift();
      if (waiter) {
        handedOut++;
        waiter(connection);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  peer.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return peer;
}

function accept(ws: WebSocket, peerLeaseMs: () => number): PeerConnection {
  const listeners = new Set<() => void>();
  let gotHello!: (hello: Hello) => void;
  const ping = setInterval(() => c.silent || ws.ping(), 200);
  const c: PeerConnection = {
    socket: ws,
    messages: [],
    errors: [],
    autoAck: true,
    silent: false,
    hello: new Promise((resolve) => { gotHello = resolve; }),
    send: (message) => ws.send(encode(message)),
    waitFor(match: (m: AgentMessage) => boolean, timeoutMs = 15_000) {
      return withTimeout(new Promise<AgentMessage>((resolve) => {
        const check = () => {
          const found = c.messages.find(match);
          if (!found) return;
          listeners.delete(check);
          resolve(found);
        };
        listeners.add(check);
        check();
      }), timeoutMs, 'awaited message did not come');
    },
    logs: () => c.messages.filter((m): m is LogMessage => m.type === 'log'),
    closed: new Promise((resolve) => ws.once('close', () => { clearInterval(ping); resolve(); })),
  };
  ws.on('message', (data) => {
    const decoded = decodeAgentMessage(data.toString());
    if (!decoded.ok) return void c.errors.push(decoded.error);
    const m = decoded.message;
    c.messages.push(m);
    if (m.type === 'hello') {
      gotHello(m);
      c.send({ type: 'welcome', agentId: 1, protocol: PROTOCOL_VERSION, leaseMs: peerLeaseMs(), keep: m.jobs.map((j) => j.jobId), drop: [] });
    }
    if (c.silent) return;
    if (c.autoAck && m.type === 'log') c.send({ type: 'ack', jobId: m.jobId, attempt: m.attempt, seq: m.seq });
    if (c.autoAck && m.type === 'done') c.send({ type: 'done-ack', jobId: m.jobId, attempt: m.attempt });
    for (const listener of [...listeners]) listener();
  });
  return c;
}

/** A well-formed lease token that names its job, so tests can tell which one came back. */
export function leaseToken(jobId: number): string {
  return `lease-token-of-job-${jobId}`;
}

/** An assignment of `steps` at `sha` of repo `web`. */
export function assignment(jobId: number, sha: string, steps: PlannedStep[], overrides: Partial<JobAssignment> = {}): JobAssignment {
  return {
    jobId, runId: 1, attempt: 1, token: leaseToken(jobId), repo: 'web', gitUrl: '', sha, ref: 'refs/heads/main',
    job: plannedJob(steps, { name: `job-${jobId}` }),
    env: { CI: 'true', KILN: 'true', KILN_JOB: `job-${jobId}`, KILN_COMMIT_SHA: sha },
    secrets: [], logCapBytes: 16 * 1024 * 1024, ...overrides,
  };
}

/** The text of every line, in seq order, each chunk once. */
export function linesOf(logs: LogMessage[]): string[] {
  const bySeq = new Map(logs.map((l) => [l.seq, l]));
  return [...bySeq.keys()].sort((a, b) => a - b).flatMap((seq) => bySeq.get(seq)!.lines.map((l) => l.text));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}
