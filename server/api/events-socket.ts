// WebSocket `/api/events`: live run, job, step, agent and queue events for dashboards;
// `{"subscribe":{"job":ID}}` adds that job's log lines. A client that cannot keep up is
// dropped rather than buffered without bound.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { createRequire } from 'node:module';
import type { WebSocket } from 'ws';
import type { EventBus, KilnEvent } from '../events.js';
import { shownAttempt } from '../store/index.js';
import { agentView, jobView, runView, stepView } from './views.js';
import { corkPerTurn } from './cork.js';

// Required, not imported: see server/hub/hub.ts.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

export interface EventsSocketOptions {
  bus: EventBus;
  logger: Logger;
  /** Whether this request may read (private servers need a token). */
  mayRead(request: IncomingMessage): boolean;
  maxBufferedBytes?: number;
  /** Runs `send` once what the event tells of is committed (store.afterCommit); default: at once. */
  afterCommit?(send: () => void): void;
}

export interface EventsSocket {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

const MAX_SUBSCRIPTIONS = 64;

export function createEventsSocket({ bus, logger, mayRead, maxBufferedBytes = 8 * 1024 * 1024, afterCommit = (send) => send() }: EventsSocketOptions): EventsSocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  const toWire = (event: KilnEvent): Record<string, unknown> => {
    switch (event.type) {
      case 'run': return { type: 'run', run: runView(event.run) };
      // shown_attempt: the attempt the job's log shows now, so live viewers switch when the server does.
      case 'job': return { type: 'job', job: { ...jobView(event.job), shown_attempt: shownAttempt(event.job) } };
      case 'step': return { type: 'step', job_id: event.jobId, step: stepView(event.step) };
      case 'agent': return { type: 'agent', agent: agentView(event.agent) };
      case 'queue': return { type: 'queue' };
      // Only to the sockets subscribed to the job, below.
      case 'log': return {
        type: 'log', job_id: event.jobId, attempt: event.attempt, first_line: event.firstLine,
        lines: event.lines.map((l, i) => ({ n: event.firstLine + i + 1, t: l.t, stream: l.stream, step: l.step, text: l.text })),
      };
    }
  };
  // Why by event: every dashboard gets the same text for one change; it is built once.
  const texts = new WeakMap<KilnEvent, string>();
  const textOf = (event: KilnEvent): string => {
    let text = texts.get(event);
    if (text === undefined) texts.set(event, (text = JSON.stringify(toWire(event))));
    return text;
  };

  wss.on('connection', (ws: WebSocket, raw: Duplex) => {
    const jobs = new Set<number>();
    const beforeSend = corkPerTurn(raw);
    const sendText = (text: string) => {
      if (ws.bufferedAmount > maxBufferedBytes) return void ws.close(1013, 'too slow: events dropped');
      beforeSend();
      ws.send(text);
    };
    const send = (message: Record<string, unknown>) => sendText(JSON.stringify(message));
    const unsubscribe = bus.subscribe((event) => {
      if (ws.readyState !== ws.OPEN) return;
      if (event.type === 'log' && !jobs.has(event.jobId)) return;
      // A dashboard that reads the run it was told of finds it, even through another connection.
      afterCommit(() => ws.readyState === ws.OPEN && sendText(textOf(event)));
    });
    ws.on('message', (data) => {
      let message: { subscribe?: { job?: unknown }; unsubscribe?: { job?: unknown } };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return void ws.close(1007, 'messages are JSON');
      }
      const add = message?.subscribe?.job;
      const remove = message?.unsubscribe?.job;
      if (Number.isSafeInteger(add) && jobs.size < MAX_SUBSCRIPTIONS) jobs.add(add as number);
      else if (Number.isSafeInteger(remove)) jobs.delete(remove as number);
      else return void send({ type: 'error', error: 'expected {"subscribe":{"job":ID}} or {"unsubscribe":{"job":ID}}' });
      send({ type: 'subscribed', jobs: [...jobs] });
    });
    ws.on('close', unsubscribe);
    ws.on('error', (error) => logger.debug({ err: error }, 'events socket error'));
  });

  return {
    handleUpgrade(request, socket, head) {
      if (!mayRead(request)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"this server is private: send a token"}');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, socket));
    },
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.close(1001, 'server stopping');
      wss.close(() => resolve());
    }),
  };
}
