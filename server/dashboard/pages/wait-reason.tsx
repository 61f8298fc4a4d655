// Why a queued or blocked job waits, on the run page and the job page: the same line as /queue
// (the job queue's explain). On the job page /assets/wait-reason.js keeps it current.
import type { KilnService } from '../../service.js';

/** The wait reasons of one run's waiting jobs, by job id (from the queue, as /queue shows them). */
export function waitReasons(service: KilnService, runId: number): Map<number, string> {
  return new Map(service.queue().filter((e) => e.job.runId === runId).map((e) => [e.job.id, e.reason]));
}

/** `besides`: the job's own reason shown next to it (a blocked job's "waiting for approval" is said once). */
export function WaitReason({ jobId, reason, besides }: { jobId: number; reason: string | undefined; besides: string | null }) {
  return reason && reason !== besides ? <div class="wait-reason muted" data-wait-reason={String(jobId)}>{reason}</div> : null;
}
