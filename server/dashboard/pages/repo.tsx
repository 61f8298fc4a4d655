// `/repos/:repo`: the repo's runs, newest first, a form to run a branch (with its inputs), and (for an admin
// session) the secrets its jobs can name, with their scopes, never their values.
import type { Repo, Run, SecretInfo } from '../../store/index.js';
import type { PlannedInput } from '../../../shared/pipeline/types.js';
import { ActionButton, ago, duration, shortSha, StatusPill, type Viewer } from '../layout.js';
import type { Page } from './page.js';
import { ScopeCells } from './secrets.js';
import { RunForm, type RunFormValues } from './run-form.js';


/** The repo's secrets, then the server's; a server one the repo replaces says so. */
function SecretsTable({ repo, secrets, nowMs }: { repo: string; secrets: SecretInfo[]; nowMs: number }) {
  const own = new Set(secrets.filter((s) => s.level === 'repo').map((s) => s.name));
  return (
    <details data-secrets>
      <summary>{`Secrets (${secrets.length})`}</summary>
      <p><a href={`/repos/${encodeURIComponent(repo)}/secrets`} data-manage-secrets>Set or delete secrets</a> · <a href="/secrets">server secrets</a></p>
      {secrets.length === 0 ? <p class="muted">No secrets yet.</p> : (
        <table>
          <thead><tr><th>name</th><th>level</th><th>branches</th><th>events</th><th>environments</th><th>updated</th></tr></thead>
          <tbody>
            {secrets.map((s) => (
              <tr data-secret={`${s.level}:${s.name}`}>
                <td><code>{s.name}</code></td>
                <td>{s.level === 'server' && own.has(s.name) ? <span class="muted">server (the repo's wins)</span> : s.level}</td>
                <ScopeCells secret={s} nowMs={nowMs} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}

/** `secrets`: null unless the viewer is an admin (secret names are not for every reader). */
export function repoPage(repo: Repo, runs: Run[], viewer: Viewer, nowMs: number, error: string | null, statusFailure: { error: string; at: string } | null = null, secrets: SecretInfo[] | null = null, runForm: { inputs: PlannedInput[]; entered: RunFormValues | null; registered?: boolean } = { inputs: [], entered: null }, notifyFailure: { error: string; at: string; target: string } | null = null): Page {
  const name = encodeURIComponent(repo.name);
  return {
    title: repo.name,
    live: 'run',
    body: (
      <>
        <h1>
          {repo.name} <img src={`/badge/${name}.svg`} alt="build status" height="20" />
        </h1>
        <p class="muted">
          {repo.path ?? repo.url ?? ''} · default branch <code>{repo.defaultBranch}</code> ·{' '}
          {repo.cancelSuperseded ? `a push cancels its branch's older runs (not on ${repo.defaultBranch})` : 'a push never cancels older runs'}
        </p>
        {error ? <p class="error-box">{error}</p> : null}
        {repo.url !== null && repo.sync.error ? (
          <p class="error-box" data-sync-error>
            {`The last sync failed ${ago(repo.sync.errorAt!, nowMs)}: ${repo.sync.error}. kiln retries with back-off.`}
          </p>
        ) : null}
        {statusFailure ? (
          <p class="error-box" data-status-error>
            {`A commit status could not be sent to ${repo.forge?.kind ?? 'the forge'} ${ago(statusFailure.at, nowMs)}: ${statusFailure.error}. kiln retries with back-off.`}
          </p>
        ) : null}
        {notifyFailure ? (
          <p class="error-box" data-notify-error>
            {`A notification could not be delivered to ${notifyFailure.target} ${ago(notifyFailure.at, nowMs)}: ${notifyFailure.error}. kiln retries with back-off (GET /api/repos/${repo.name}/notifications lists the deliveries).`}
          </p>
        ) : null}
        {repo.url !== null ? (
          <p class="muted">
            {repo.sync.syncedAt ? `Synced ${ago(repo.sync.syncedAt, nowMs)}.` : 'Not synced yet.'}{' '}
            {repo.sealed.webhookSecret || repo.webhookInsecure ? <>Webhook: <code>{`/hooks/${name}`}</code></> : 'No webhook secret: polled only.'}
          </p>
        ) : null}
        {runForm.registered && runs.length === 0 ? (
          <div class="notice" data-registered>
            <p>{`${repo.name} is registered: kiln builds each new commit from now on. The commit at the head of ${repo.defaultBranch} has not been built.`}</p>
            <ActionButton viewer={viewer} repo={name} action={`/repos/${name}/run`} label="Build the current head now" kind="primary">
              <input type="hidden" name="branch" value={repo.defaultBranch} />
            </ActionButton>
          </div>
        ) : null}
        <div class="actions">
          <RunForm viewer={viewer} action={`/repos/${name}/run`} inputs={runForm.inputs} branch={repo.defaultBranch} entered={runForm.entered} />
        </div>
        {secrets ? <SecretsTable repo={repo.name} secrets={secrets} nowMs={nowMs} /> : null}
        {runs.length === 0 ? (
          <p class="muted">No runs yet.</p>
        ) : (
          <table>
            <thead><tr><th>run</th><th>status</th><th>branch</th><th>commit</th><th>event</th><th>duration</th><th>when</th></tr></thead>
            <tbody>
              {runs.map((run) => (
                <tr data-run={String(run.id)}>
                  <td><a href={`/runs/${run.id}`}>{`#${run.number}`}</a></td>
                  <td><StatusPill status={run.status} /></td>
                  <td>{run.pullRequest ? `#${run.pullRequest.number} ${run.pullRequest.sourceBranch} → ${run.pullRequest.targetBranch}` : run.branch ?? run.tag ?? run.ref ?? ''}</td>
                  <td><code>{shortSha(run.sha)}</code> {run.message?.split('\n')[0] ?? ''}</td>
                  <td>{run.event}</td>
                  <td>{duration(run.startedAt, run.finishedAt, nowMs)}</td>
                  <td class="muted">{ago(run.createdAt, nowMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </>
    ),
  };
}
