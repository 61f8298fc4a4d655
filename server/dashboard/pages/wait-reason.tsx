// Why a queued or blocked job waits, on the run page and the job page: the same line as /queue
// (the job queue's explain). On the job page /assets/wait-reason.js keeps it current.

/** `besides`: the job's own reason shown next to it (a blocked job's "waiting for approval" is said once). */
export function WaitReason({ jobId, reason, besides }: { jobId: number; reason: string | undefined; besides: string | null }) {
  return reason && reason !== besides ? <div class="wait-reason muted" data-wait-reason={String(jobId)}>{reason}</div> : null;
}
