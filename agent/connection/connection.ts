// The WebSocket to the server's `/agent`: hello first, decoded messages in, reconnects with back-off.
//
//   connection lifecycle:
//
//   start ─▶ connecting ─upgrade ok─▶ open (hello sent) ─close / silent─▶ waiting ─back-off─▶ connecting
//                │                                                          ▲
//                └── refused (401: slow retry) / unreachable ───────────────┘
//   close() from any state ─▶ closed (no more attempts)
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type WebSocketClass from 'ws';
import {
  MAX_FRAME_BYTES, decodeServerMessage, encode, type AgentMessage, type ServerMessage,
} from '../../shared/protocol/messages.js';
import { createSilenceWatchdog, silenceLimitMs, type SilenceWatchdog } from '../lease.js';
import { createBackoff, type BackoffOptions } from './backoff.js';
import { systemClock, type Clock } from './clock.js';

// Why require, not import: importing a CommonJS package from ESM makes Node parse its source
// for export names, and that parser, optimized during the agent's start, keeps ~4 MiB (RSS).
const WebSocket = createRequire(import.meta.url)('ws') as typeof WebSocketClass;
type WebSocket = WebSocketClass;

export type HelloMessage = Extract<AgentMessage, { type: 'hello' }>;

export interface ConnectionOptions {
  /** The server's base URL (`http://ci:8080`); the socket goes to `ws://ci:8080/agent`. */
  serverUrl: string;
  token: string;
  logger: Logger;
  /** Built at each connect: it lists the jobs held at that moment. */
  hello(): HelloMessage;
  onMessage(message: ServerMessage): void;
  /** The socket closed; jobs go on, and the connection tries again by itself. */
  onClose?(): void;
  clock?: Clock;
  backoff?: BackoffOptions;
  /** Wait after a refused token (401/403) before trying again; default 30 s. */
  refusedRetryMs?: number;
  /** A connection open this long resets the back-off; default 10 s. */
  healthyMs?: number;
  /** The lease assumed until `welcome` says otherwise; default 30 s. */
  leaseMs?: number;
}

/**
 * Keeps one socket to the server until `close()`. `send` writes only on an open socket and
 * says whether it did; what must survive a disconnect is the caller's to keep and resend.
 */
export interface Connection {
  start(): void;
  send(message: AgentMessage): boolean;
  readonly isOpen: boolean;
  /** The lease of `welcome`: sets how long the server may stay silent. */
  setLeaseMs(leaseMs: number): void;
  /** Closes the socket (code 1000) and stops reconnecting; resolves once it is closed. */
  close(reason: string): Promise<void>;
}

export function createConnection(o: ConnectionOptions): Connection {
  const clock = o.clock ?? systemClock;
  const backoff = createBackoff(o.backoff);
  const url = agentUrl(o.serverUrl);
  let socket: WebSocket | null = null;
  let watchdog: SilenceWatchdog | null = null;
  let retryTimer: unknown = null;
  let closing = false;
  let leaseMs = o.leaseMs ?? 30_000;
  let closed: Promise<void> = Promise.resolve();

  function connect() {
    retryTimer = null;
    if (closing) return;
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${o.token}` }, handshakeTimeout: 10_000, maxPayload: MAX_FRAME_BYTES,
    });
    socket = ws;
    let status: number | null = null;
    let openedAt: number | null = null;
    let failure = '';
    closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('unexpected-response', (_request, response) => {
      status = response.statusCode ?? 0;
      response.resume();
      ws.terminate();
    });
    ws.on('error', (error: NodeJS.ErrnoException) => { failure = error.code ?? error.message; });
    ws.on('open', () => {
      openedAt = clock.now();
      watchdog = createSilenceWatchdog({
        clock, limitMs: silenceLimitMs(leaseMs),
        onSilent: (ms) => {
          o.logger.warn({ silentMs: ms }, 'server silent; dropping the connection');
          ws.terminate();
        },
      });
      ws.send(encode(o.hello()));
      o.logger.info({ url }, 'connected to server');
    });
    ws.on('ping', () => watchdog?.touch());
    ws.on('message', (data, isBinary) => {
      watchdog?.touch();
      const decoded = decodeServerMessage(isBinary ? Buffer.from(data as Buffer) : data.toString());
      if (!decoded.ok) return o.logger.warn({ error: decoded.error }, 'malformed message from server; ignored');
      o.onMessage(decoded.message);
    });
    ws.on('close', (code, reason) => {
      watchdog?.stop();
      watchdog = null;
      if (socket === ws) socket = null;
      if (openedAt !== null) {
        if (clock.now() - openedAt >= (o.healthyMs ?? 10_000)) backoff.reset();
        o.onClose?.();
      }
      if (closing) return;
      const refused = status === 401 || status === 403;
      const delayMs = refused ? (o.refusedRetryMs ?? 30_000) : backoff.next();
      const retry = `retrying in ${(delayMs / 1000).toFixed(1)} s`;
      if (status !== null) o.logger.error({ status, url }, `${describeRefusal(status)}; ${retry}`);
      else if (openedAt === null) o.logger.warn({ url, error: failure || 'closed' }, `cannot reach server; ${retry}`);
      else o.logger.warn({ code, reason: reason.toString() }, `${describeClose(code)}; ${retry}`);
      retryTimer = clock.setTimeout(connect, delayMs);
    });
  }

  return {
    start() {
      if (!socket && retryTimer === null && !closing) connect();
    },
    send(message) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(encode(message));
      return true;
    },
    get isOpen() {
      return socket !== null && socket.readyState === WebSocket.OPEN;
    },
    setLeaseMs(ms) {
      leaseMs = ms;
      watchdog?.setLimitMs(silenceLimitMs(ms));
    },
    async close(reason) {
      closing = true;
      if (retryTimer !== null) clock.clearTimeout(retryTimer);
      retryTimer = null;
      if (!socket) return;
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, reason);
      else socket.terminate();
      // A server that never answers the close frame must not keep the agent from exiting.
      const timer = clock.setTimeout(() => socket?.terminate(), 2000);
      await closed;
      clock.clearTimeout(timer);
    },
  };
}

/** `http://ci:8080/base` → `ws://ci:8080/base/agent`. */
export function agentUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/agent`;
  return url.href;
}

function describeRefusal(status: number): string {
  if (status === 401 || status === 403) return `agent token refused by server (${status}); check --token or KILN_AGENT_TOKEN`;
  return `server answered ${status} instead of a WebSocket upgrade`;
}

function describeClose(code: number): string {
  switch (code) {
    case 4001: return 'server closed the connection: another agent connected with the same name';
    case 4002: return 'server closed the connection: it speaks another protocol version';
    case 1001: return 'server is going away';
    case 1006: return 'connection to server lost';
    case 1009: return 'server refused a frame over its size limit';
    default: return `server closed the connection (code ${code})`;
  }
}
