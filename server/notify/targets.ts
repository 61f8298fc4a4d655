// Delivering one notification to its target: a signed webhook, a chat incoming webhook, or a
// mail through server.smtp. Each throws a one-line error that the sender records and retries.
import { createHmac } from 'node:crypto';
import type { NotifyTarget } from '../../shared/pipeline/notify.js';
import type { NotificationPayload } from './payload.js';
import { subjectOf, textOf } from './payload.js';

/** server.smtp (see config.ts). */
export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user: string | null;
  password: string | null;
  from: string;
}

export interface DeliveryContext {
  /** The value of the secret that signs the repo's webhooks, or null when it is not set. */
  secretOf(repoId: number, name: string): string | null;
  smtp: SmtpSettings | null;
  timeoutMs: number;
}

export const SIGNATURE_HEADER = 'X-Kiln-Signature-256';

/** `sha256=<hex>` of the body, as GitHub's X-Hub-Signature-256. */
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function deliver(target: NotifyTarget, repoId: number, payload: string, ctx: DeliveryContext): Promise<void> {
  const parsed = JSON.parse(payload) as NotificationPayload;
  if (target.kind === 'webhook') {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'kiln', 'x-kiln-event': parsed.event };
    if (target.secret !== null) {
      const secret = ctx.secretOf(repoId, target.secret);
      if (secret === null) throw new Error(`secret ${target.secret} (which signs this webhook) is not set for the repo or the server`);
      headers[SIGNATURE_HEADER] = signatureOf(secret, payload);
    }
    return post(target.url, payload, headers, ctx.timeoutMs);
  }
  if (target.kind === 'slack') return post(target.url, JSON.stringify({ text: textOf(parsed) }), { 'content-type': 'application/json' }, ctx.timeoutMs);
  if (!ctx.smtp) throw new Error('server.smtp is not configured: no mail can be sent');
  return sendMail(ctx.smtp, target.to, subjectOf(parsed), textOf(parsed), ctx.timeoutMs);
}

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  const text = await response.text().catch(() => '');
  if (!response.ok) throw new Error(`${new URL(url).host} answered ${response.status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`.trimEnd());
}

async function sendMail(smtp: SmtpSettings, to: string[], subject: string, text: string, timeoutMs: number): Promise<void> {
  const { createTransport } = await import('nodemailer');
  const transport = createTransport({
    host: smtp.host, port: smtp.port, secure: smtp.secure,
    ...(smtp.user !== null ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: smtp.from, to, subject, text });
  } finally {
    transport.close();
  }
}
