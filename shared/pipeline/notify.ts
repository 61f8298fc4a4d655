// `notify:` (pipeline.yml, and a repo's entry in kiln.yml): who hears about a run, on which
// events. The schema of one entry and its plan; the server decides which events fired and
// delivers (server/notify/). No zod here: the server's config reads it before any schema
// loads (the schema: notify-schema.ts).
import type { NotifyInput } from './notify-schema.js';

/**
 * success / failure (failed or could not run) / always (any end, cancelled included) at the
 * run's end; fixed: a success whose previous outcome on the same branch was a failure (as
 * Jenkins' `fixed`); approval_needed: a job starts waiting for an approval.
 */
export const NOTIFY_EVENTS = ['failure', 'fixed', 'success', 'always', 'approval_needed'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export const NOTIFY_KEYS = ['on', 'webhook', 'secret', 'slack', 'email'];

export type NotifyTarget =
  | { kind: 'webhook'; url: string; secret: string | null }
  | { kind: 'slack'; url: string }
  | { kind: 'email'; to: string[] };

/** A planned entry: plain JSON, kept in the run's plan and in the repo's settings. */
export interface NotifyRule {
  on: NotifyEvent[];
  target: NotifyTarget;
}

export function planNotify(input: NotifyInput | undefined): NotifyRule[] {
  return (input ?? []).map((entry) => {
    const on = entry.on === undefined ? ['failure', 'fixed'] as NotifyEvent[] : typeof entry.on === 'string' ? [entry.on] : [...new Set(entry.on)];
    const target: NotifyTarget = entry.webhook !== undefined
      ? { kind: 'webhook', url: entry.webhook, secret: entry.secret ?? null }
      : entry.slack !== undefined
        ? { kind: 'slack', url: entry.slack }
        : { kind: 'email', to: typeof entry.email === 'string' ? [entry.email] : entry.email! };
    return { on, target };
  });
}
