// The page frame: nav, the style sheet, the live-update module, and the login/logout corner.
import type { Child } from 'hono/jsx';
import type { Status } from '../../shared/status.js';

export interface Viewer {
  /** The CSRF token of the logged-in session, or null when nobody is logged in. */
  csrf: string | null;
  /** The current path (for "log in to …" links and the nav's current page). */
  path: string;
  /** Who is logged in (a user's name, or `admin` for the admin token's session), or null. */
  name?: string | null;
  /** Whether the logged-in session may do `need` on `repo` (buttons it may not press are not shown). */
  may?: (need: 'run' | 'maintain' | 'admin', repo?: string | null) => boolean;
}

const NAV: [string, string][] = [['/', 'Repos'], ['/agents', 'Agents'], ['/pools', 'Pools'], ['/usage', 'Cost'], ['/queue', 'Queue'], ['/environments', 'Environments']];

export interface LayoutProps {
  title: string;
  viewer: Viewer;
  /** Event types that refresh <main> (space separated), e.g. "run job". */
  live?: string;
  /** Extra data attributes on <main> for the live module (run id, job ids, poll interval). */
  data?: Record<string, string>;
  children?: Child;
}

export function Layout({ title, viewer, live, data, children }: LayoutProps) {
  const current = (href: string) => (href === '/' ? viewer.path === '/' || viewer.path.startsWith('/repos/') : viewer.path.startsWith(href));
  const mainAttrs: Record<string, string> = {};
  if (live) mainAttrs['data-live'] = live;
  for (const [k, v] of Object.entries(data ?? {})) mainAttrs[`data-${k}`] = v;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · kiln`}</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/style.css" />
        <script type="module" src="/assets/live.js"></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">kiln</a>
          <nav>
            {NAV.map(([href, label]) => (
              <a href={href} aria-current={current(href) ? 'page' : undefined}>{label}</a>
            ))}
            {viewer.csrf !== null && viewer.may?.('admin', null) ? <a href="/audit" aria-current={current('/audit') ? 'page' : undefined}>Audit</a> : null}
          </nav>
          {viewer.csrf !== null ? (
            <form method="post" action="/logout">
              {viewer.name ? <a class="whoami" href="/tokens" title="your API tokens">{viewer.name}</a> : null}
              <input type="hidden" name="csrf" value={viewer.csrf} />
              <button type="submit">Log out</button>
            </form>
          ) : (
            <a href={`/login?next=${encodeURIComponent(viewer.path)}`}>Log in</a>
          )}
        </header>
        <main {...mainAttrs}>{children}</main>
      </body>
    </html>
  );
}

export function StatusPill({ status }: { status: Status | null }) {
  return <span class={`status ${status ?? 'none'}`}>{status ?? 'no runs'}</span>;
}

/**
 * A form that POSTs to `action` with the session's CSRF token, or a "log in to …" link
 * when nobody is logged in; nothing when the session's role may not do it.
 */
export function ActionButton({ viewer, action, label, kind, repo, need = 'run', children }: {
  viewer: Viewer; action: string; label: string; kind?: 'primary' | 'danger';
  /** The repo the action is on; with `need` (default run), who may press it (others do not see it). */
  repo?: string | null; need?: 'run' | 'maintain' | 'admin'; children?: Child;
}) {
  if (viewer.csrf === null) return <a href={`/login?next=${encodeURIComponent(viewer.path)}`}>{`log in to ${label.toLowerCase()}`}</a>;
  if (viewer.may && !viewer.may(need, repo ?? null)) return null;
  return (
    <form method="post" action={action}>
      <input type="hidden" name="csrf" value={viewer.csrf} />
      {children}
      <button type="submit" class={kind}>{label}</button>
    </form>
  );
}

/** "1m 05s" from two ISO times (the end defaults to now for what is still running). */
export function duration(startedAt: string | null, finishedAt: string | null, nowMs = Date.now()): string {
  if (!startedAt) return '';
  const ms = Math.max(0, (finishedAt ? Date.parse(finishedAt) : nowMs) - Date.parse(startedAt));
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** "3 min ago" for an ISO time. */
export function ago(iso: string | null, nowMs = Date.now()): string {
  if (!iso) return '';
  const s = Math.round((nowMs - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(s, 0)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export const shortSha = (sha: string) => sha.slice(0, 8);
