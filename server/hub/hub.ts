// The hub: the `/agent` WebSocket endpoint. It authenticates agents at the upgrade, checks the
// protocol version at hello, decodes frames, pings, and hands every message to the job queue,
// which owns what the messages mean. Sockets, frames and pings; nothing else.
//
//   agent lifecycle:  (connect) ─hello─▶ idle ⇄ busy ─drain─▶ draining ─drained─▶ offline
//                                  └──────── socket closed / silent ─────────▶ offline
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { createRequire } from 'node:module';
import type { WebSocket } from 'ws';
import { encode, MAX_FRAME_BYTES, PROTOCOL_VERSION, type AgentMessage, type ServerMessage } from '../../shared/protocol/messages.js';
import type { decodeAgentMessage } from '../../shared/protocol/agent-schema.js';
import type { AgentLink, JobQueue } from '../queue/job-queue.js';
import { bearer } from '../auth.js';

// Required, not imported: importing a CommonJS package from ESM makes Node parse its source for
// export names, and that parser stays in memory (about 9 MiB of the server's idle RSS in all).
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

export interface HubOptions {
  queue: Pick<JobQueue, 'connect' | 'disconnect' | 'receiveAll'>;
  logger: Logger;
  now?: () => number;
  /** Whether a bearer token may connect as an agent. */
  authorize(token: string): boolean;
  /** Between pings (default 5 s); an agent that answers nothing loses its leases (the queue's deadline). */
  pingMs?: number;
  /** How long a new connection may take to say hello (default 10 s). */
  helloMs?: number;
}

export interface Hub {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  start(): void;
  /** Closes every agent connection (1001) and the WebSocket server. */
  stop(): Promise<void>;
}

interface Connection extends AgentLink {
  lastHeardMs: number;
  welcomed: boolean;
}

export function createHub(options: HubOptions): Hub {
  const { queue, logger } = options;
  const now = options.now ?? Date.now;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const sockets = new Set<WebSocket>();
  let pinger: NodeJS.Timeout | null = null;
  // The frames' schema (and zod with it) loads at the first upgrade, not at start: a server
  // no agent has joined yet does not pay for it. That upgrade waits for it, once.
  let decode: typeof decodeAgentMessage | null = null;
  let decoderLoading: Promise<unknown> | null = null;
  const loadDecoder = () => (decoderLoading ??= import('../../shared/protocol/agent-schema.js').then((m) => (decode = m.decodeAgentMessage)));

  const onConnection = (socket: WebSocket, raw: Duplex, remote: string, decodeFrame: typeof decodeAgentMessage) => {
    // Why a read's frames go to the queue together: an agent sends a job's step, log and done
    // frames at once, and the queue stores what arrived together in one commit (a commit costs
    // more than the rows it carries). ws parses a read's frames synchronously, between these
    // two listeners; a frame parsed at any other time (ws was paused) goes to the queue alone.
    // The socket is corked meanwhile, so the acks and next job the queue answers with leave in
    // one write instead of one each.
    let reading = false;
    let batch: AgentMessage[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      const messages = batch;
      batch = [];
      deliver(messages);
    };
    raw.prependListener('data', () => {
      reading = true;
      raw.cork();
    });
    raw.on('data', () => {
      reading = false;
      flush();
      raw.uncork();
    });
    const deliver = (messages: AgentMessage[]) => {
      try {
        queue.receiveAll(link, messages);
      } catch (error) {
        logger.error({ err: error, remote }, 'agent message failed');
        socket.close(1011, 'internal error');
      }
    };
    const link: Connection = {
      remote, lastHeardMs: now(), welcomed: false,
      send: (message: ServerMessage) => {
        if (socket.readyState !== socket.OPEN) return false;
        socket.send(encode(message));
        return true;
      },
      // Corked in this synchronous scope only: a cork held to the end of the turn kept job
      // frames waiting behind the turn's other work (dispatch with 1,000 agents went from
      // p50 1.3 ms to 18 ms in scripts/bench/fleet.ts).
      sendAll: (messages) => {
        if (socket.readyState !== socket.OPEN) return false;
        raw.cork();
        for (const message of messages) socket.send(encode(message));
        raw.uncork();
        return true;
      },
      close: (code, reason) => socket.close(code, reason),
    };
    sockets.add(socket);
    const helloTimer = setTimeout(() => link.welcomed || socket.close(4003, 'no hello within 10 s'), options.helloMs ?? 10_000);
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        flush(); // what came before it is taken
        logger.warn({ remote }, 'binary frame; closing the connection');
        socket.close(1003, 'the agent protocol speaks text frames only');
        return;
      }
      const decoded = decodeFrame(data.toString());
      if (!decoded.ok) {
        flush();
        logger.warn({ remote, error: decoded.error }, 'malformed frame; closing the connection');
        socket.close(1007, decoded.error.slice(0, 120));
        return;
      }
      link.lastHeardMs = now();
      const message = decoded.message;
      if (link.welcomed) {
        if (reading) batch.push(message);
        else deliver([message]);
        return;
      }
      try {
        if (message.type !== 'hello') return socket.close(4003, 'the first message must be hello');
        if (message.protocol !== PROTOCOL_VERSION) {
          logger.warn({ remote, protocol: message.protocol }, 'agent refused: protocol version');
          return socket.close(4002, `protocol ${message.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`);
        }
        link.welcomed = true;
        queue.connect(link, message);
      } catch (error) {
        logger.error({ err: error, remote }, 'agent message failed');
        socket.close(1011, 'internal error');
      }
    });
    socket.on('pong', () => {
      link.lastHeardMs = now();
    });
    socket.on('error', (error: Error & { code?: string }) => {
      // ws refuses a frame past maxPayload before reading it whole, and closes with 1009.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') logger.warn({ remote, limitBytes: MAX_FRAME_BYTES }, 'frame over the size limit; closing the connection (1009)');
      else logger.warn({ err: error, remote }, 'agent socket error');
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      sockets.delete(socket);
      if (link.welcomed) queue.disconnect(link);
    });
  };

  return {
    handleUpgrade(request, socket, head) {
      const token = bearer(request.headers.authorization);
      const remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
      if (!token || !options.authorize(token)) {
        logger.warn({ remote }, 'agent refused: wrong or missing token');
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"wrong or missing agent token"}');
        return;
      }
      const upgrade = (decoder: typeof decodeAgentMessage) => wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, socket, remote, decoder));
      if (decode) return upgrade(decode);
      loadDecoder().then(() => upgrade(decode!), (error: unknown) => {
        logger.error({ err: error }, 'cannot load the agent protocol');
        socket.destroy();
      });
    },
    start() {
      pinger = setInterval(() => {
        for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.ping();
      }, options.pingMs ?? 5000);
      pinger.unref();
    },
    async stop() {
      if (pinger) clearInterval(pinger);
      for (const socket of sockets) socket.close(1001, 'server stopping');
      sockets.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
