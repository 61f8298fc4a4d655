// `/pools`: each pool's bounds and agents, its last scaling events, and a chart of queued
// jobs and agents over time (from the dashboard's sample ring).
import { SamplesChart } from '../chart.js';
import { ago } from '../layout.js';
import type { Sample } from '../samples.js';
import type { Page } from './page.js';

/** The fields of `service.pools()` entries (SPEC §3 pool shape) this page shows. */
export interface PoolSummary {
  name: string;
  provider?: string;
  labels?: string[];
  min?: number;
  max?: number;
  desired?: number;
  agents?: Record<string, number>;
  queued?: number;
  events?: { at: string; action: string; count?: number; agent?: string; reason: string }[];
}

export function asPoolSummaries(pools: unknown[]): PoolSummary[] {
  return pools.filter((p): p is PoolSummary => typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string');
}

export function poolsPage(pools: PoolSummary[], samples: Sample[], nowMs: number): Page {
  return {
    title: 'Pools',
    live: 'agent queue',
    data: { poll: '5000' },
    body: (
      <>
        <h1>Pools</h1>
        <p><a href="/usage">Cost view</a>: agent-minutes busy and idle, cold starts, queue wait, and what elasticity saved.</p>
        <h2>Queued jobs and agents over time</h2>
        <SamplesChart samples={samples} />
        {pools.length === 0 ? <p class="muted">No pools are configured.</p> : null}
        {pools.map((pool) => (
          <section class="pool" data-pool={pool.name}>
            <h2>{pool.name} <span class="muted">{pool.provider ?? ''}</span></h2>
            <table>
              <thead><tr><th>labels</th><th>min</th><th>max</th><th>desired</th><th>agents</th><th>queued it could take</th></tr></thead>
              <tbody>
                <tr>
                  <td>{(pool.labels ?? []).map((l) => <code>{l} </code>)}</td>
                  <td>{String(pool.min ?? '')}</td>
                  <td>{String(pool.max ?? '')}</td>
                  <td>{String(pool.desired ?? '')}</td>
                  <td>{Object.entries(pool.agents ?? {}).filter(([, n]) => n > 0).map(([status, n]) => `${n} ${status}`).join(', ') || '0'}</td>
                  <td>{String(pool.queued ?? 0)}</td>
                </tr>
              </tbody>
            </table>
            {pool.events?.length ? (
              <details>
                <summary>Last scaling events</summary>
                <ul>
                  {pool.events.slice(0, 20).map((e) => (
                    <li>
                      <span class="muted">{ago(e.at, nowMs)}</span> {e.action}
                      {e.count !== undefined ? ` ${e.count}` : ''}{e.agent ? ` ${e.agent}` : ''}: {e.reason}
                    </li>
                  ))}
                </ul>
              </details>
            ) : null}
          </section>
        ))}
      </>
    ),
  };
}
