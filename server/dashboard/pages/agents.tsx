// `/agents`: every agent, its labels, pool, status and the jobs it holds.
import type { Agent } from '../../store/index.js';
import { ago } from '../layout.js';
import type { Page } from './page.js';

export function agentsPage(agents: Agent[], nowMs: number): Page {
  return {
    title: 'Agents',
    live: 'agent',
    body: (
      <>
        <h1>Agents</h1>
        {agents.length === 0 ? <p class="muted">No agent has connected yet.</p> : (
          <table>
            <thead><tr><th>name</th><th>status</th><th>pool</th><th>labels</th><th>jobs</th><th>capacity</th><th>version</th><th>last seen</th></tr></thead>
            <tbody>
              {agents.map((a) => (
                <tr data-agent={a.name}>
                  <td>{a.name}</td>
                  <td><span class={`status agent-${a.status}`}>{a.status}</span></td>
                  <td>{a.pool ?? <span class="muted">by hand</span>}</td>
                  <td>{a.labels.map((l) => <code>{l}</code>).flatMap((el, i) => (i ? [' ', el] : [el]))}</td>
                  <td>{a.jobs.length ? a.jobs.map((id) => `#${id}`).join(', ') : ''}</td>
                  <td>{String(a.capacity)}</td>
                  <td>{a.version ?? ''}</td>
                  <td class="muted">{ago(a.lastSeenAt, nowMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </>
    ),
  };
}
