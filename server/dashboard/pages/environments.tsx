// `/environments`: for each `environment:` name, the last job that deployed to it.
import type { Job, Run } from '../../store/index.js';
import { ago, shortSha } from '../layout.js';
import type { Page } from './page.js';

export interface Deployment {
  environment: string;
  job: Job;
  run: Run;
}

export function environmentsPage(deployments: Deployment[], nowMs: number): Page {
  return {
    title: 'Environments',
    live: 'run',
    body: (
      <>
        <h1>Environments</h1>
        {deployments.length === 0 ? <p class="muted">Nothing has been deployed yet: jobs with <code>environment:</code> show here once they succeed.</p> : (
          <table>
            <thead><tr><th>environment</th><th>repo</th><th>run</th><th>job</th><th>commit</th><th>deployed</th></tr></thead>
            <tbody>
              {deployments.map(({ environment, job, run }) => (
                <tr data-environment={environment}>
                  <td><strong>{environment}</strong></td>
                  <td><a href={`/repos/${encodeURIComponent(run.repo)}`}>{run.repo}</a></td>
                  <td><a href={`/runs/${run.id}`}>{`#${run.number}`}</a> <span class="muted">{run.branch ?? run.tag ?? ''}</span></td>
                  <td><a href={`/runs/${run.id}/jobs/${job.id}`}>{job.name}</a></td>
                  <td><code>{shortSha(run.sha)}</code> {run.message?.split('\n')[0] ?? ''}</td>
                  <td class="muted" title={job.finishedAt ?? ''}>{ago(job.finishedAt, nowMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </>
    ),
  };
}
