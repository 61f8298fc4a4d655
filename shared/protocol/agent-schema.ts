// The schema of what agents send, and its decoder: the server's side of the protocol
// (messages.ts describes the conversation). Kept apart from messages.ts so that an agent, and
// a server no agent has connected to yet, do not load zod: the hub imports this module at
// its first upgrade.
import * as z from 'zod';
import { fastLogMessage } from './log-frame.js';
import { decodeLogFrame } from './log-frame-decode.js';
import { MAX_FRAME_BYTES, type Decoded } from './messages.js';

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

function describeType(data: unknown): string {
  const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? JSON.stringify(type).slice(0, 40) : 'untyped';
}
