// kiln.yml: its schema and its reader, which names the file, line, column, key and reason of
// the first problem. Loaded by config.ts only when there is a kiln.yml (zod and yaml with it).
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { parsePipelineText } from '../shared/pipeline/parse.js';
import { formatPath } from '../shared/pipeline/paths.js';
import { DURATION_PATTERN, parseDuration } from '../shared/pipeline/duration.js';
import { JOB_NAME_PATTERN } from '../shared/pipeline/names.js';
import { notifySchema } from '../shared/pipeline/notify-schema.js';
import { KilnError } from '../shared/errors.js';
import { parseSize } from '../shared/size.js';
import { REMOTE_URL, REMOTE_URL_RULE } from './git/remote-url.js';

const duration = z.string().regex(DURATION_PATTERN, { error: 'expected a duration such as 30s or 2m' });
const poolSchema = z.strictObject({
  name: z.string().regex(JOB_NAME_PATTERN, { error: 'a pool name is letters, digits, _, . and -' }),
  provider: z.enum(['process', 'docker', 'swarm'], { error: 'expected process, docker or swarm' }),
  labels: z.array(z.string()).optional(),
  min: z.int().min(0).optional(),
  max: z.int().min(0).optional(),
  capacity: z.int().min(1).optional(),
  idle_timeout: duration.optional(),
  schedule: z.array(z.strictObject({ cron: z.string(), min: z.int().min(0) })).optional(),
  docker: z.strictObject({
    host: z.string().optional(),
    image: z.string().optional(),
    network: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
  }).optional(),
});
// Secrets come by reference here, never written into kiln.yml: the name of an environment
// variable, or a key file.
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable' });
const repoSchema = z.union([
  z.strictObject({ name: z.string().regex(JOB_NAME_PATTERN), path: z.string(), cancel_superseded: z.boolean().optional(), notify: notifySchema.optional() }),
  z.strictObject({
    name: z.string().regex(JOB_NAME_PATTERN),
    url: z.string().regex(REMOTE_URL, { error: REMOTE_URL_RULE }),
    poll: duration.optional(),
    webhook_secret_env: envName.optional(),
    webhook: z.strictObject({ insecure: z.boolean() }).optional(),
    credentials: z.union([
      z.strictObject({ token_env: envName, username: z.string().min(1).optional() }),
      z.strictObject({ ssh_key_file: z.string().min(1) }),
    ], { error: 'credentials are { token_env, username? } or { ssh_key_file }' }).optional(),
    forge: z.strictObject({
      kind: z.enum(['github', 'gitlab', 'gitea', 'bitbucket'], { error: 'a forge kind is github, gitlab, gitea or bitbucket' }),
      api_url: z.url({ protocol: /^https?$/ }),
      token_env: envName,
    }).optional(),
    cancel_superseded: z.boolean().optional(),
    notify: notifySchema.optional(),
  }),
], { error: 'a repo is { name, path, cancel_superseded?, notify? } or { name, url, poll?, webhook_secret_env?, webhook?, credentials?, forge?, cancel_superseded?, notify? }' });
const size = z.union([z.int().min(1), z.string().refine((text) => (parseSize(text) ?? 0) > 0)], {
  error: 'expected a size such as 1GiB, 500MB or a number of bytes',
});
// An issuer is https; plain http only on this machine (a provider for tests or a local proxy).
const LOOPBACK = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
const issuerUrl = z.url({ protocol: /^https?$/, error: 'expected the issuer\'s URL' }).refine((text) => {
  const url = new URL(text);
  return url.protocol === 'https:' || LOOPBACK.test(url.hostname);
}, { error: 'expected an https URL (plain http only for a loopback host such as 127.0.0.1 or localhost)' });
const repoRole = z.enum(['viewer', 'developer', 'maintainer', 'admin'], { error: 'a role is viewer, developer, maintainer or admin' });
const oidcSchema = z.strictObject({
  issuer: issuerUrl,
  client_id: z.string().min(1),
  // Prefer client_secret_env or KILN_OIDC_CLIENT_SECRET: kiln.yml is often committed.
  client_secret: z.string().min(1).optional(),
  client_secret_env: envName.optional(),
  admin_group: z.string().min(1).optional(),
  groups_claim: z.string().min(1).optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'a scope is printable characters without spaces or quotes' }))
    .refine((scopes) => scopes.includes('openid'), { error: 'the scopes must include openid' }).optional(),
  roles: z.record(
    z.string().min(1),
    z.record(z.string().refine((name) => name === '*' || JOB_NAME_PATTERN.test(name), { error: 'expected a repo name or "*"' }), repoRole),
    { error: 'expected { <group>: { <repo or "*">: viewer | developer | maintainer | admin } }' },
  ).optional(),
});
const fileSchema = z.strictObject({
  server: z.strictObject({
    host: z.string().optional(),
    port: z.int().min(0).max(65535).optional(),
    data: z.string().optional(),
    url: z.url().optional(),
    private: z.boolean().optional(),
    lease_timeout: duration.optional(),
    log_cap: z.int().min(1024).optional(),
    artifact_max: size.optional(),
    artifact_expire: duration.optional(),
    cache_max: size.optional(),
    protected_branches: z.array(z.string().min(1), { error: 'expected a list of branch globs' }).optional(),
    metrics: z.strictObject({ token_env: envName.optional() }).optional(),
    retention: z.strictObject({
      runs: duration.optional(),
      logs: duration.optional(),
      keep_last: z.int().min(0).optional(),
      interval: duration.refine((text) => (parseDuration(text) ?? 0) >= 60_000, { error: 'expected at least 1m between sweeps' }).optional(),
      audit: duration.optional(),
    }).optional(),
    smtp: z.strictObject({
      host: z.string().min(1, { error: 'expected the SMTP server\'s host name' }),
      port: z.int().min(1).max(65535).optional(),
      secure: z.boolean().optional(),
      user: z.string().min(1).optional(),
      password: z.string().optional(),
      password_env: envName.optional(),
      from: z.string().min(3, { error: 'expected the sender address, e.g. kiln@example.com' }),
    }).refine((smtp) => smtp.password === undefined || smtp.password_env === undefined, { error: 'give password or password_env, not both' }).optional(),
    trusted_proxies: z.array(z.union([z.ipv4(), z.ipv6()]), { error: 'expected a list of IP addresses' }).optional(),
    oidc: oidcSchema.optional(),
  }).optional(),
  repos: z.array(repoSchema).optional(),
  pools: z.array(poolSchema).optional(),
});

export type ConfigFile = z.infer<typeof fileSchema>;

/**
 * A union (a repo is a path or a url) says only that no shape fits; when one shape fits
 * nearly (fewer problems than any other), its first problem names the key that is wrong.
 */
function nearestIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  // A record's bad key: the key's own rule says what is wrong, at the key's path.
  if (issue.code === 'invalid_key' && issue.issues[0]) return { ...issue.issues[0], path: issue.path } as z.core.$ZodIssue;
  if (issue.code !== 'invalid_union' || issue.errors.length < 2) return issue;
  const [best, next] = [...issue.errors].sort((a, b) => a.length - b.length);
  if (!best?.[0] || best.length === next!.length) return issue;
  return nearestIssue({ ...best[0], path: [...issue.path, ...best[0].path] });
}

export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KilnError('bad_input', `${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const parsed = parsePipelineText(text);
  if (!parsed.ok) {
    const p = parsed.problems[0]!;
    throw new KilnError('bad_input', `${file}:${p.line}:${p.col}: ${p.message}`);
  }
  const checked = fileSchema.safeParse(parsed.parsed.value ?? {});
  if (!checked.success) {
    const issue = nearestIssue(checked.error.issues[0]!);
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    const keys = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]!] : path;
    const { line, col } = parsed.parsed.locate(keys, issue.code === 'unrecognized_keys' ? 'key' : 'value');
    const reason = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys[0]}"` : issue.message;
    throw new KilnError('bad_input', `${file}:${line}:${col}: ${formatPath(keys) || 'file'}: ${reason}`);
  }
  for (const [i, pool] of (checked.data.pools ?? []).entries()) {
    if ((pool.min ?? 0) > (pool.max ?? Infinity)) {
      throw new KilnError('bad_input', `${file}: pools[${i}]: min (${pool.min}) is above max (${pool.max})`);
    }
  }
  return checked.data;
}
