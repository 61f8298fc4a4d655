// `/`: every repo with its branches' last runs.
import type { Repo, Run } from '../../store/index.js';
import { ago, duration, shortSha, StatusPill } from '../layout.js';
import type { Page } from './page.js';

export function homePage(repos: { repo: Repo; lastRuns: Run[] }[], nowMs: number): Page {
  return {
    title: 'Repos',
    live: 'run',
    body: (
      <>
        <h1>Repos</h1>
        {repos.length === 0 ? <p class="muted">No repos are registered yet.</p> : null}
        {repos.map(({ repo, lastRuns }) => (
          <section class="repo" data-repo={repo.name}>
            <h2>
              <a href={`/repos/${encodeURIComponent(repo.name)}`}>{repo.name}</a>{' '}
              <img src={`/badge/${encodeURIComponent(repo.name)}.svg`} alt="build status" height="20" />
            </h2>
            {lastRuns.length === 0 ? (
              <p class="muted">No runs yet.</p>
            ) : (
              <table>
                <thead><tr><th>branch</th><th>status</th><th>run</th><th>commit</th><th>duration</th><th>when</th></tr></thead>
                <tbody>
                  {lastRuns.map((run) => (
                    <tr>
                      <td>{run.branch ?? run.tag ?? run.ref ?? ''}{run.branch === repo.defaultBranch ? <span class="muted"> (default)</span> : null}</td>
                      <td><StatusPill status={run.status} /></td>
                      <td><a href={`/runs/${run.id}`}>{`#${run.number}`}</a></td>
                      <td><code>{shortSha(run.sha)}</code> {run.message?.split('\n')[0] ?? ''}</td>
                      <td>{duration(run.startedAt, run.finishedAt, nowMs)}</td>
                      <td class="muted">{ago(run.createdAt, nowMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        ))}
      </>
    ),
  };
}
