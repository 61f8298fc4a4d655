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
import type { AgentMessage } from './agent-schema.js';

export type { AgentMessage, LogLine } from './agent-schema.js';

export const PROTOCOL_VERSION = 2;
/** Largest frame either side accepts; log chunks are cut well below it. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

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
  /** Artifacts and caches over HTTP (docs/artifacts.md); absent from servers before them. */
  files?: JobFiles;
}

/**
 * What a job moves over HTTP, beside the WebSocket. `token` authenticates this job's transfers
 * only (`Authorization: Bearer <token>` on `/api/jobs/:id/artifacts/:name`, `/api/jobs/:id/cache`,
 * `/api/artifacts/:id`, `/api/caches/:id`); it is worth nothing once the job's lease ends.
 */
export interface JobFiles {
  token: string;
  /** The server refuses a larger artifact (`server.artifact_max`); the agent checks first. */
  artifactMaxBytes: number;
  /** The server refuses a larger cache archive (`server.cache_max`). */
  cacheMaxBytes: number;
  /** The artifacts of the jobs this one needs (minus `artifacts: false`), to unpack before the first step. */
  artifacts: NeededArtifact[];
}

export interface NeededArtifact {
  id: number;
  job: string;      // the job that made it
  name: string;
  size: number;     // bytes of the archive (.tar.gz)
  sha256: string;   // hex digest of the archive
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
