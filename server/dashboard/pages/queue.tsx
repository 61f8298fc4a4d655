// `/queue`: the jobs that wait, and why.
import type { QueueEntry } from '../../service.js';
import { ActionButton, ago, StatusPill, type Viewer } from '../layout.js';
import type { Page } from './page.js';

export function queuePage(entries: QueueEntry[], viewer: Viewer, nowMs: number): Page {
  return {
    title: 'Queue',
    live: 'queue agent',
    data: { poll: '10000' },
    body: (
      <>
        <h1>Queue</h1>
        {entries.length === 0 ? <p class="muted">Nothing is waiting.</p> : (
          <table>
            <thead><tr><th>job</th><th>run</th><th>status</th><th>labels</th><th>why it waits</th><th>queued</th><th></th></tr></thead>
            <tbody>
              {entries.map(({ job, repo, runNumber, reason }) => (
                <tr data-job={job.name}>
                  <td><a href={`/runs/${job.runId}/jobs/${job.id}`}>{job.name}</a></td>
                  <td><a href={`/runs/${job.runId}`}>{`${repo} #${runNumber}`}</a></td>
                  <td><StatusPill status={job.status} /></td>
                  <td>{job.runsOn.map((l) => <code>{l} </code>)}</td>
                  <td class="reason">{reason}</td>
                  <td class="muted">{ago(job.queuedAt, nowMs)}</td>
                  <td>{job.status === 'blocked' ? <ActionButton viewer={viewer} repo={repo} action={`/jobs/${job.id}/approve`} label="Approve" kind="primary" /> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </>
    ),
  };
}
