// The audit log's filters as query strings (`?actor=&action=&target=&outcome=&since=&until=
// &before=&limit=`), read the same way by the API route and the dashboard page. Times are an
// ISO date or a duration before now (`24h`, `7d`); anything else is one bad_input line.
import { KilnError } from '../../shared/errors.js';
import { parseDuration } from '../../shared/pipeline/duration.js';
import type { AuditFilter, AuditOutcome } from './store.js';

const OUTCOMES: readonly AuditOutcome[] = ['ok', 'refused', 'failed', 'error'];
export const MAX_LIMIT = 1000;

function timeOf(name: string, text: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== null) return now - ago;
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) throw new KilnError('bad_input', `${name} must be an ISO time or a duration like 24h`);
  return at;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value <= 0) throw new KilnError('bad_input', `${name} must be a positive integer`);
  return value;
}

export function auditFilter(query: Record<string, string | undefined>, now: number, defaultLimit = 100): AuditFilter {
  const text = (name: string): string | undefined => (query[name] === undefined || query[name] === '' ? undefined : query[name]);
  const outcome = text('outcome');
  if (outcome !== undefined && !OUTCOMES.includes(outcome as AuditOutcome)) throw new KilnError('bad_input', `outcome must be one of ${OUTCOMES.join(', ')}`);
  const limit = text('limit') === undefined ? defaultLimit : positive('limit', text('limit')!);
  if (limit > MAX_LIMIT) throw new KilnError('bad_input', `limit must be at most ${MAX_LIMIT}`);
  const since = text('since');
  const until = text('until');
  const before = text('before');
  return {
    actor: text('actor'), action: text('action'), target: text('target'), outcome: outcome as AuditOutcome | undefined,
    since: since === undefined ? undefined : timeOf('since', since, now),
    until: until === undefined ? undefined : timeOf('until', until, now),
    before: before === undefined ? undefined : positive('before', before),
    limit,
  };
}
