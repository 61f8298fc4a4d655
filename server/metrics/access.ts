// Who may scrape GET /metrics, in one function (issue 13's scoped tokens will replace it):
// with a metrics token configured, only `Authorization: Bearer <that token>`; without one, an
// open server lets anyone scrape (as GitLab Runner does) and a private one asks for the admin
// token. Compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface ScrapeAccess {
  /** The metrics token (KILN_METRICS_TOKEN or the variable server.metrics.token_env names); null: none. */
  metricsToken: string | null;
  private: boolean;
  /** Whether a token is the admin token (the store's check). */
  isAdmin(token: string): boolean;
}

/** Null when the bearer token `presented` may scrape; else why not, in one line. */
export function refuseScrape(access: ScrapeAccess, presented: string | null): string | null {
  if (access.metricsToken !== null) {
    return presented !== null && sameSecret(presented, access.metricsToken) ? null : 'this needs the metrics token: Authorization: Bearer <token>';
  }
  if (!access.private) return null;
  return presented !== null && access.isAdmin(presented) ? null : 'this server is private: /metrics needs the admin token (or set a metrics token)';
}

// Why digests: timingSafeEqual needs equal lengths, and comparing lengths first would tell them.
function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
