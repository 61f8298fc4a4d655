// Stage 2 for `notify:`: the zod schema of its entries (pipeline.yml and kiln.yml's repos).
import * as z from 'zod';
import { NOTIFY_EVENTS } from './notify.js';

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const httpUrl = (what: string) => z.url({ protocol: /^https?$/, error: `expected the ${what}'s http(s) URL` });
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

/** One `notify:` entry: `on`, and exactly one target (webhook, slack or email). */
export const notifyEntrySchema = z
  .strictObject({
    on: z
      .union([z.enum(NOTIFY_EVENTS), z.array(z.enum(NOTIFY_EVENTS)).min(1, { error: 'expected at least one event' })], {
        error: `expected one of ${NOTIFY_EVENTS.join(', ')} or a list of them`,
      })
      .meta({ description: 'When to notify (default [failure, fixed])' })
      .optional(),
    webhook: httpUrl('webhook').meta({ description: 'POST a signed JSON payload to this URL' }).optional(),
    secret: z.string({ error: 'expected a secret name' }).regex(SECRET_NAME, { error: 'a secret name is letters, digits and _' })
      .meta({ description: 'The repo secret (else server secret) that signs the webhook: X-Kiln-Signature-256' }).optional(),
    slack: httpUrl('incoming webhook').meta({ description: 'An incoming webhook (Slack, Mattermost, Rocket.Chat): {"text": ...}' }).optional(),
    email: z
      .union([z.string().regex(EMAIL), z.array(z.string().regex(EMAIL, { error: 'expected an email address' })).min(1)], {
        error: 'expected an email address or a list of them',
      })
      .meta({ description: 'Mail these addresses through server.smtp' })
      .optional(),
  }, { error: 'a notify entry is a mapping with `on:` and one of webhook, slack or email' })
  .superRefine((entry, ctx) => {
    const targets = (['webhook', 'slack', 'email'] as const).filter((k) => entry[k] !== undefined);
    if (targets.length !== 1) {
      ctx.addIssue({ code: 'custom', message: targets.length === 0 ? 'a notify entry needs a target: webhook, slack or email' : `a notify entry has one target, not ${targets.join(' and ')}` });
    }
    if (entry.secret !== undefined && entry.webhook === undefined) ctx.addIssue({ code: 'custom', path: ['secret'], message: '`secret` signs a webhook: it goes with `webhook:`' });
  })
  .meta({ description: 'Notify a target on run events' });

export const notifySchema = z.array(notifyEntrySchema, { error: 'expected a list of notify entries' })
  .meta({ description: 'Notifications: webhook, slack or email on failure, fixed, success, always, approval_needed' });

export type NotifyInput = z.infer<typeof notifySchema>;
