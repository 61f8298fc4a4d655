// What a notification says: the webhook's JSON payload (docs/operations.md, "Notifications"),
// and the one-line text and mail subject made from it.
import type { NotifyEvent } from '../../shared/pipeline/notify.js';
import type { Status } from '../../shared/status.js';
import type { Job, Run } from '../store/index.js';

export interface NotificationPayload {
  /** failure | fixed | success | always | approval_needed */
  event: NotifyEvent;
  repo: string;
  run: {
    id: number; number: number; attempt: number; status: Status; event: string;
    branch: string | null; tag: string | null; sha: string; message: string | null;
    url: string; created_at: string; finished_at: string | null;
  };
  /** The job that waits for an approval (approval_needed only). */
  job: { id: number; name: string; url: string } | null;
  /** When the notification was made (ISO 8601). */
  sent_at: string;
}

export function buildPayload(event: NotifyEvent, run: Run, serverUrl: string, at: number, job?: Job): NotificationPayload {
  return {
    event,
    repo: run.repo,
    run: {
      id: run.id, number: run.number, attempt: run.attempt, status: run.status, event: run.event,
      branch: run.branch, tag: run.tag, sha: run.sha, message: run.message,
      url: `${serverUrl}/runs/${run.id}`, created_at: run.createdAt, finished_at: run.finishedAt,
    },
    job: job ? { id: job.id, name: job.name, url: `${serverUrl}/runs/${run.id}/jobs/${job.id}` } : null,
    sent_at: new Date(at).toISOString(),
  };
}

const WORDS: Record<NotifyEvent, string> = {
  failure: 'failed', fixed: 'is fixed', success: 'passed', always: 'ended', approval_needed: 'waits for an approval',
};

/** `kiln: web #12 failed on main (abc1234)`; a job's approval: `kiln: web #12 waits for an approval: deploy`. */
export function subjectOf(p: NotificationPayload): string {
  const where = p.run.branch ? ` on ${p.run.branch}` : p.run.tag ? ` at ${p.run.tag}` : '';
  const what = p.event === 'always' ? `ended ${p.run.status}` : WORDS[p.event];
  const job = p.job ? `: ${p.job.name}` : '';
  return `kiln: ${p.repo} #${p.run.number} ${what}${where} (${p.run.sha.slice(0, 7)})${job}`;
}

/** The chat message and the mail's body: the subject, the commit message and the link. */
export function textOf(p: NotificationPayload): string {
  const lines = [subjectOf(p)];
  if (p.run.message) lines.push(p.run.message.split('\n')[0]!);
  lines.push(p.job?.url ?? p.run.url);
  return lines.join('\n');
}
