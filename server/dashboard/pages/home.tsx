// `/`: every repo with its branches' last runs; for an admin session, the form that adds one
// (a folder on the server or a remote URL), and an empty state that says how to start.
import type { Repo, Run } from '../../store/index.js';
import { ago, duration, shortSha, StatusPill, type Viewer } from '../layout.js';
import type { Page } from './page.js';

/** The add-repo form's state: for an admin session only; what a refused form keeps, and why it was refused. */
export interface AddRepoForm {
  viewer: Viewer;
  entered: { name: string; source: string } | null;
  error: string | null;
}

export function homePage(repos: { repo: Repo; lastRuns: Run[] }[], nowMs: number, add: AddRepoForm | null = null): Page {
  return {
    title: 'Repos',
    live: 'run',
    body: (
      <>
        <h1>Repos</h1>
        {repos.length === 0 ? (
          <div class="empty-state" data-empty-state>
            <p>No repos are registered yet. To start, register a git repository that has a <code>pipeline.yml</code>:</p>
            <ul>
              <li>{add ? 'with the form below (a folder on this server, or a remote URL);' : <><a href="/login?next=%2F">log in</a> with the admin token and use the form here;</>}</li>
              <li>from a shell: <code>kiln repo add NAME PATH|URL</code> (with <code>KILN_TOKEN</code> set to the admin token);</li>
              <li>or start the server inside the repository (<code>npm start</code> or <code>kiln server</code> there), or list repos in <code>kiln.yml</code>.</li>
            </ul>
          </div>
        ) : null}
        {add ? <AddRepo form={add} open={repos.length === 0 || add.error !== null} /> : null}
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

function AddRepo({ form, open }: { form: AddRepoForm; open: boolean }) {
  return (
    <details class="add-repo" data-add-repo {...(open ? { open: true } : {})}>
      <summary>Add repository</summary>
      {form.error ? <p class="error-box" data-add-repo-error>{form.error}</p> : null}
      <form method="post" action="/repos">
        <input type="hidden" name="csrf" value={form.viewer.csrf ?? ''} />
        <label>name <input name="name" required placeholder="web" value={form.entered?.name ?? ''} /></label>
        <label>path or URL <input name="source" required size={48} placeholder="/srv/git/web or https://git.example.com/team/web.git" value={form.entered?.source ?? ''} /></label>
        <button type="submit" class="primary">Add repository</button>
      </form>
      <p class="muted">A path is a git repository on this server, watched for commits; a URL (https://, ssh:// or user@host:path) is polled. Credentials, webhooks and forge statuses for a remote: <code>PATCH /api/repos/NAME</code>.</p>
    </details>
  );
}
