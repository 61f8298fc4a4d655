// The agent protocol: JSON text frames over the WebSocket at `/agent`.
//
// The conversation (PROTOCOL_VERSION 2; 2 made lease tokens unguessable strings):
//
//   agent                                   server
//   ── upgrade GET /agent, Authorization: Bearer <agent token> ──▶   (401 before upgrade if wrong)
//   hello {protocol, name, labels, capacity, jobs: [running jobs + lease tokens]} ──▶
//                                  ◀── welcome {agentId, keep: [jobIds], drop: [jobIds], leaseMs}
//                                  ◀── job {assignment}            (whenever a slot is free)
//   step {jobId, token, index, status…} ──▶
//   log {jobId, token, attempt, seq, lines} ──▶
//                                  ◀── ack {jobId, attempt, seq}   (stored; never doubled on replay)
//   done {jobId, token, status, lastSeq, refused?} ──▶              (refused: not started; back to the queue)
//                                  ◀── done-ack {jobId}
//                                  ◀── cancel {jobId, reason}      (kill the job's process tree)
//                                  ◀── drain {}                    (finish jobs, take no more, exit)
//   draining {} ──▶                      (the agent drains on its own, e.g. SIGTERM: send it no more jobs)
//   drained {} ──▶                                                 (then the agent closes)
//
// Liveness is WebSocket ping/pong: the server renews the leases of agents it hears from;
// an agent silent past the lease deadline loses its jobs. After a reconnect the agent
// re-presents its jobs in `hello`, replays every unacknowledged `log` and `done` in order,
// and the server keeps what it does not have yet.
import { z } from 'zod';
import { fastLogMessage } from './log-frame.js';
import { decodeLogFrame } from './log-frame-decode.js';

export const PROTOCOL_VERSION = 2;
/** Largest frame either side accepts; log chunks are cut well below it. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

const id = z.int().positive();
const time = z.number().nonnegative(); // ms since the epoch
const name = z.string().min(1).max(200);
/** A lease's fencing token: 128 random bits, base64url (the server makes them; agents echo them). */
const leaseToken = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, { error: 'not a lease token' });

export const logLineSchema = z.object({
  t: time,
  stream: z.enum(['stdout', 'stderr', 'system']),
  text: z.string(),
  step: z.int().min(0).nullable(), // null: not inside a step (checkout, set-up, services)
});
export type LogLine = z.infer<typeof logLineSchema>;

const runningJob = z.object({ jobId: id, attempt: z.int().positive(), token: leaseToken });

export const agentMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.int(),
    name,
    labels: z.array(name).max(64),
    capacity: z.int().min(1).max(256),
    version: z.string().max(50),
    pool: z.string().max(200).nullable(),
    jobs: z.array(runningJob).max(256),
  }),
  z.object({
    type: z.literal('step'),
    jobId: id,
    token: leaseToken,
    index: z.int().min(0),
    status: z.enum(['running', 'success', 'failed', 'cancelled', 'skipped', 'error']),
    exitCode: z.int().nullable(),
    at: time,
  }),
  z.object({
    type: z.literal('log'),
    jobId: id,
    token: leaseToken,
    attempt: z.int().positive(),
    seq: z.int().min(0),
    lines: z.array(logLineSchema).max(100_000),
  }),
  z.object({
    type: z.literal('done'),
    jobId: id,
    token: leaseToken,
    attempt: z.int().positive(),
    status: z.enum(['success', 'failed', 'cancelled', 'error']),
    exitCode: z.int().nullable(),
    reason: z.string().max(1000).nullable(),
    lastSeq: z.int().min(-1), // the last log chunk sent for this attempt; -1: none
    at: time,
    refused: z.literal(true).optional(), // the agent did not start the job (full, stopping): requeue it, no retry spent
  }),
  z.object({ type: z.literal('draining') }),
  z.object({ type: z.literal('drained') }),
]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;

export interface JobAssignment {
  jobId: number;
  runId: number;
  attempt: number;
  token: string;
  repo: string;
  gitUrl: string;          // the server's smart-HTTP mirror of the repo
  sha: string;
  ref: string | null;
  job: import('../pipeline/types.js').PlannedJob;
  env: Record<string, string>;  // KILN_* variables and secrets, layered under the job's own env
  secrets: string[];            // values to mask in the log
  logCapBytes: number;
}

export type ServerMessage =
  | { type: 'welcome'; agentId: number; protocol: number; leaseMs: number; keep: number[]; drop: number[] }
  | { type: 'job'; assignment: JobAssignment }
  | { type: 'ack'; jobId: number; attempt: number; seq: number }
  | { type: 'done-ack'; jobId: number; attempt: number }
  | { type: 'cancel'; jobId: number; reason: string }
  | { type: 'drain' }
  | { type: 'error'; message: string };

export type Decoded<T> = { ok: true; message: T } | { ok: false; error: string };

/** Decodes one frame from an agent; never throws. */
export function decodeAgentMessage(frame: string | Buffer): Decoded<AgentMessage> {
  if (frame.length > MAX_FRAME_BYTES) return { ok: false, error: `frame of ${frame.length} bytes is over the limit` };
  const text = typeof frame === 'string' ? frame : frame.toString('utf8');
  // Log frames carry up to 100,000 lines: read one without JSON.parse (see log-frame-decode.ts).
  const read = text.startsWith('{"type":"log"') ? decodeLogFrame(text) : null;
  if (read) return { ok: true, message: read };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  // A log frame JSON.parse had to read: a valid one is taken as parsed (see log-frame.ts).
  const log = fastLogMessage(data);
  if (log) return { ok: true, message: log };
  const result = agentMessageSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, error: `bad ${describeType(data)} message: ${issue.path.join('.') || 'frame'}: ${issue.message}` };
  }
  return { ok: true, message: result.data };
}

/** Decodes one frame from the server; never throws. The server is trusted, so this checks the shape only. */
export function decodeServerMessage(frame: string | Buffer): Decoded<ServerMessage> {
  try {
    const data = JSON.parse(typeof frame === 'string' ? frame : frame.toString('utf8')) as { type?: unknown };
    const known = ['welcome', 'job', 'ack', 'done-ack', 'cancel', 'drain', 'error'];
    if (typeof data !== 'object' || data === null || !known.includes(String(data.type))) {
      return { ok: false, error: 'unknown server message' };
    }
    return { ok: true, message: data as ServerMessage };
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
}

export function encode(message: AgentMessage | ServerMessage): string {
  return JSON.stringify(message);
}

function describeType(data: unknown): string {
  const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? JSON.stringify(type).slice(0, 40) : 'untyped';
}
