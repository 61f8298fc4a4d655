// The request bodies the API accepts, as zod schemas. The routes read them by name through
// readJson (http.ts), which loads this module, and zod with it, at the first body it checks:
// a server that has only answered reads has not paid for zod.
import * as z from 'zod';
import { DURATION_PATTERN } from '../../shared/pipeline/duration.js';
import { secretValueProblem } from '../../shared/secrets/forms.js';
import { REMOTE_URL, REMOTE_URL_RULE } from '../git/remote-url.js';

const remoteUrl = z.string().max(2048).regex(REMOTE_URL, { error: REMOTE_URL_RULE });
const poll = z.string().regex(DURATION_PATTERN, { error: 'expected a duration such as 30s or 5m' });
const webhookSecret = z.string().min(8, { error: 'a webhook secret is at least 8 characters' }).max(1024);
const credentials = z.union([
  z.strictObject({ token: z.string().min(1).max(8192), username: z.string().min(1).max(200).optional() }),
  z.strictObject({ ssh_key: z.string().min(1).max(16 * 1024).regex(/-----BEGIN [A-Z ]*PRIVATE KEY-----/, { error: 'not a PEM/OpenSSH private key' }) }),
], { error: 'credentials are {"token", "username"?} or {"ssh_key"}' });
const forge = z.strictObject({
  kind: z.enum(['github', 'gitlab', 'gitea', 'bitbucket'], { error: 'a forge kind is github, gitlab, gitea or bitbucket' }),
  api_url: z.url({ protocol: /^https?$/ }),
  token: z.string().min(1).max(8192),
});
/** A secret's scopes: each absent (any), or at least one entry. */
const glob = z.string().min(1, { error: 'a glob is not empty' }).max(200);
const scopeList = <T extends z.ZodType>(item: T, what: string) => z.array(item).min(1, { error: `give at least one ${what}, or leave the key out for any` }).max(100).optional();
const secretScopes = {
  branches: scopeList(glob, 'branch glob'),
  events: scopeList(z.enum(['push', 'tag', 'pull_request', 'cron', 'manual', 'api'], { error: 'an event is push, tag, pull_request, cron, manual or api' }), 'event'),
  environments: scopeList(glob, 'environment glob'),
};
// Why a minimum: a short value (`abc`) would be masked as `***` wherever it appears in any log.
const secretValue = z.string().max(64 * 1024).check((ctx) => {
  const problem = secretValueProblem(ctx.value);
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

const userName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, { error: 'a user name is 1 to 64 letters, digits, ., _, @ and -, starting with a letter or digit' });
const email = z.email({ error: 'not an email address' }).max(320);
const groups = z.array(z.string().min(1).max(200)).max(100);

/** A remote repo's settings: in a registration, and (each nullable: null clears it) in a PATCH. */
const remoteSettings = {
  poll: poll.optional(),
  webhook_secret: webhookSecret.optional(),
  webhook: z.strictObject({ insecure: z.boolean() }).optional(),
  credentials: credentials.optional(),
  forge: forge.optional(),
  cancel_superseded: z.boolean().optional(),
};

export const bodies = {
  repo: z.union([
    z.strictObject({ name: z.string(), path: z.string(), cancel_superseded: z.boolean().optional() }),
    z.strictObject({ name: z.string(), url: remoteUrl, ...remoteSettings }),
  ], { error: 'expected {"name", "path", "cancel_superseded"?} or {"name", "url", "poll"?, "webhook_secret"?, "webhook"?, "credentials"?, "forge"?, "cancel_superseded"?}' }),
  repoSettings: z.strictObject({
    poll: poll.nullable().optional(),
    webhook_secret: webhookSecret.nullable().optional(),
    webhook: z.strictObject({ insecure: z.boolean() }).optional(),
    credentials: credentials.nullable().optional(),
    forge: forge.nullable().optional(),
    cancel_superseded: z.boolean().optional(),
  }),
  run: z.strictObject({
    ref: z.string().min(1).optional(),
    sha: z.string().regex(/^[0-9a-f]{7,40}$/, { error: 'sha must be a hex commit id' }).optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
    inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]), { error: 'inputs: expected a mapping of name: string, number or boolean' }).optional(),
  }),
  secret: z.strictObject({ value: secretValue, ...secretScopes }),
  serverSecret: z.strictObject({ value: secretValue, ...secretScopes }),
  rerun: z.strictObject({ failed_only: z.boolean().optional() }),
  login: z.strictObject({ name: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
  user: z.strictObject({
    name: userName, password: z.string().max(1024).optional(), email: email.optional(), admin: z.boolean().optional(), groups: groups.optional(),
  }),
  userChanges: z.strictObject({
    password: z.string().max(1024).optional(), email: email.nullable().optional(), admin: z.boolean().optional(), groups: groups.optional(),
    disabled: z.boolean().optional(),
  }),
  role: z.strictObject({ role: z.enum(['viewer', 'developer', 'maintainer', 'admin'], { error: 'a role is viewer, developer, maintainer or admin' }) }),
  token: z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'a token name is 1 to 64 letters, digits, ., _ and -' }),
    scope: z.enum(['read', 'run', 'admin'], { error: 'a scope is read, run or admin' }),
    repos: z.array(z.string().min(1).max(200)).min(1, { error: 'give at least one repo, or leave repos out for all' }).max(100).optional(),
    expires_in: z.union([z.string().regex(DURATION_PATTERN, { error: 'expires_in: a duration such as 30d, or null for never' }), z.null()]).optional(),
  }),
  password: z.strictObject({ current: z.string().max(1024).optional(), password: z.string().max(1024) }),
};

export type Bodies = { [K in keyof typeof bodies]: z.infer<(typeof bodies)[K]> };
