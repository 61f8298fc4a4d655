// The artifacts a run or job made, as a table with download links (shown on the run and job pages).
import { formatSize } from '../../../shared/size.js';
import type { Artifact } from '../../store/index.js';

/** Nothing when there are none; `byJob`: a column naming the job that made each. */
export function ArtifactList({ artifacts, byJob }: { artifacts: readonly Artifact[]; byJob: boolean }) {
  if (artifacts.length === 0) return null;
  return (
    <section class="artifacts">
      <h2>Artifacts</h2>
      <table>
        <thead><tr><th>artifact</th>{byJob ? <th>job</th> : null}<th>size</th><th>expires</th></tr></thead>
        <tbody>
          {artifacts.map((a) => (
            <tr data-artifact={a.name}>
              <td><a href={`/api/artifacts/${a.id}`} download={`${a.name}.tar.gz`}>{a.name}</a></td>
              {byJob ? <td><a href={`/runs/${a.runId}/jobs/${a.jobId}`}>{a.job}</a></td> : null}
              <td>{formatSize(a.size)}</td>
              <td class="muted">{a.expiresAt ? a.expiresAt.slice(0, 10) : 'never'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
