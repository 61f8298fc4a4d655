// `/audit`: the audit log for a server admin, newest first, filtered by actor, action and
// since (read as GET /api/audit reads them: server/audit/query.ts), paged by the `before` cursor.
import type { AuditRow } from '../../audit/store.js';
import type { Page } from './page.js';

export interface AuditPageFilter {
  actor: string;
  action: string;
  since: string;
}

const query = (filter: AuditPageFilter, extra: Record<string, string> = {}): string => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filter, ...extra })) if (v !== '') params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : '';
};

export function auditPage(rows: AuditRow[], next: number | null, filter: AuditPageFilter, paged: boolean, error: string | null): Page {
  return {
    title: 'Audit log',
    ...(error ? { status: 400 as const } : {}),
    body: (
      <>
        <h1>Audit log</h1>
        <form method="get" action="/audit" class="filters" data-audit-filters>
          <label>actor <input name="actor" value={filter.actor} placeholder="admin token" /></label>
          <label>action <input name="action" value={filter.action} placeholder="run.trigger" /></label>
          <label>since <input name="since" value={filter.since} placeholder="24h or 2025-01-01" /></label>
          <button type="submit">Filter</button>
          {filter.actor || filter.action || filter.since ? <a href="/audit">clear</a> : null}
        </form>
        {error ? <p class="error-box" data-audit-error>{error}</p> : null}
        {!error && rows.length === 0 ? <p class="muted" data-audit-empty>No entries.</p> : null}
        {rows.length > 0 ? (
          <table data-audit>
            <thead><tr><th>time (UTC)</th><th>actor</th><th>address</th><th>action</th><th>target</th><th>outcome</th><th>detail</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr data-audit-id={String(r.id)} data-action={r.action}>
                  <td>{new Date(r.at).toISOString().replace('T', ' ').slice(0, 19)}</td>
                  <td>{r.actor}</td><td>{r.address}</td><td><code>{r.action}</code></td><td>{r.target}</td>
                  <td class={`outcome ${r.outcome}`}>{r.outcome}{r.status ? ` (${r.status})` : ''}</td><td>{r.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <nav class="pager">
          {paged ? <a href={`/audit${query(filter)}`} data-audit-newest>newest</a> : null}
          {next !== null ? <a href={`/audit${query(filter, { before: String(next) })}`} data-audit-older rel="next">older entries</a> : null}
        </nav>
      </>
    ),
  };
}
