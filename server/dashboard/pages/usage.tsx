// `/usage`: the cost view (issue 13). Per pool and UTC day, agent-minutes busy and idle, cold
// starts, and what a fixed pool of `max` would have used; the queue wait by label set.
import type { AgentUsage, Percentiles, PoolDay } from '../../usage/agent-usage.js';
import { UsageChart } from '../usage-chart.js';
import type { Page } from './page.js';

const RANGES = [1, 7, 30, 90];

const seconds = (s: number | null) => (s === null ? '–' : s < 120 ? `${s} s` : `${Math.round(s / 6) / 10} min`);
const wait = (p: Percentiles) => (p.count === 0 ? ['0', '–', '–'] : [String(p.count), seconds(p.p50Seconds), seconds(p.p95Seconds)]);
const num = (n: number | null) => (n === null ? '–' : String(n));

function poolTable(rows: PoolDay[]) {
  return (
    <table>
      <thead><tr><th>day</th><th>agent-minutes</th><th>busy</th><th>idle (waste)</th><th>cold starts</th><th>p50</th><th>p95</th><th>fixed pool of max</th><th>saved</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr data-day={r.day}>
            <td>{r.day}</td><td>{String(r.agentMinutes)}</td><td>{String(r.busyMinutes)}</td>
            <td>{String(r.idleMinutes)}{r.agentMinutes > 0 ? <span class="muted"> ({Math.round((r.idleMinutes / r.agentMinutes) * 100)}%)</span> : null}</td>
            {wait(r.coldStarts).map((v) => <td>{v}</td>)}
            <td>{num(r.fixedPoolMinutes)}</td><td>{num(r.savedMinutes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function usagePage(usage: AgentUsage, days: number, error: string | null = null): Page {
  const pools = [...new Set(usage.pools.map((r) => r.pool))];
  return {
    title: 'Cost',
    body: (
      <>
        <h1>Cost view</h1>
        {error ? <p class="error-box" data-usage-error>{error}</p> : null}
        <p class="muted">
          The last {String(days)} day{days === 1 ? '' : 's'} (UTC), in agent-minutes: {RANGES.map((n) => (
            <a href={`/usage?days=${n}`} aria-current={n === days ? 'page' : undefined}>{`${n}d `}</a>
          ))}
          · as JSON: <a href={`/api/usage/agents?days=${days}`}><code>/api/usage/agents?days={String(days)}</code></a>
        </p>
        {pools.length === 0 ? <p class="muted">No pools are configured and no agent connected.</p> : null}
        {pools.map((pool) => {
          const rows = usage.pools.filter((r) => r.pool === pool);
          const max = rows.find((r) => r.max !== null)?.max ?? null;
          return (
            <section class="pool" data-pool={pool ?? ''}>
              <h2>{pool ?? 'agents of no pool'} {max !== null ? <span class="muted">max {String(max)}</span> : null}</h2>
              <UsageChart rows={rows} />
              {poolTable(rows)}
            </section>
          );
        })}
        <h2>Queue wait by label set</h2>
        {usage.queueWait.length === 0 ? <p class="muted">No job started in these days.</p> : (
          <table class="queue-wait">
            <thead><tr><th>day</th><th>runs-on</th><th>jobs</th><th>p50</th><th>p95</th></tr></thead>
            <tbody>
              {usage.queueWait.map((w) => (
                <tr>
                  <td>{w.day}</td><td>{w.labels.length ? w.labels.map((l) => <code>{l} </code>) : <span class="muted">any</span>}</td>
                  {wait(w.queueWait).map((v) => <td>{v}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </>
    ),
  };
}
