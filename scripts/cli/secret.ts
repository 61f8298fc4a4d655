// `kiln secret set|list|delete`: secrets through the API, at the server level (every repo) or
// a repo's (--repo). The value comes from stdin only: an argument would show in the process
// list and the shell's history. Values are never printed: the server never answers them.
import { UsageError, parseCommand } from './args.js';
import { ClientError, clientOptions, getJson, request, type ClientOptions } from './client.js';
import { readSecretInput } from './stdin.js';

export { piped } from './stdin.js';

const USAGE = `Usage: kiln secret set [REPO] NAME [--repo REPO] [--branches G1,G2] [--events E1,E2] [--environments G1,G2]
       kiln secret list [--repo REPO]
       kiln secret delete [REPO] NAME [--repo REPO]

Secrets of the server (for every repo), or of one repo with --repo or REPO (a repo's secret wins over
the server's of the same name). Needs the admin token in KILN_TOKEN.
  set            reads the value from stdin: a pipe or a file (printf %s "$VALUE" | kiln secret set NAME,
                 kiln secret set KEY < key.pem), or typed at a terminal without echo. One trailing
                 newline of a one-line value is dropped. Replaces the secret, scopes included.
  --branches     branch globs the secret is given to (default any)
  --events       push, tag, pull_request, cron, manual, api (default any)
  --environments globs of a job's environment: (default any)
  list           names, level, scopes and when each was set; never values
  --server URL   default $KILN_SERVER or http://127.0.0.1:8080
  --token T      default $KILN_TOKEN`;

interface SecretJson {
  name: string;
  level: 'repo' | 'server';
  branches: string[] | null;
  events: string[] | null;
  environments: string[] | null;
  updated_at: string;
}

const OPTIONS = {
  repo: { type: 'string' }, branches: { type: 'string' }, events: { type: 'string' }, environments: { type: 'string' },
  server: { type: 'string' }, token: { type: 'string' },
} as const;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, USAGE);
  if (!parsed) return 0;
  const [action, ...names] = parsed.positionals;
  const { values } = parsed;
  const scoped = values.branches !== undefined || values.events !== undefined || values.environments !== undefined;
  if (action === 'list') {
    if (names.length > 0) throw new UsageError('secret list takes no NAME (see --help)');
    if (scoped) throw new UsageError('secret list: --branches, --events and --environments are for set');
    return list(clientOptions(values), values.repo);
  }
  if (action !== 'set' && action !== 'delete') {
    throw new UsageError(action === undefined ? 'secret: say set, list or delete (see --help)' : `secret: unknown action "${action}" (set, list or delete)`);
  }
  // `set REPO NAME` is `set NAME --repo REPO`, once the server knows REPO: a value given as an
  // argument by mistake (`set NAME VALUE`) is then refused before it is sent anywhere.
  const repoFirst = names.length === 2 && values.repo === undefined;
  if (repoFirst) {
    const repo = names[0]!;
    const known = await request(clientOptions(values), 'GET', `/api/repos/${encodeURIComponent(repo)}`).then(() => true, (error: unknown) => {
      if (error instanceof ClientError && error.message.startsWith('404:')) return false;
      throw error;
    });
    if (!known) throw new UsageError(`secret ${action}: no repo named "${repo}"; give one NAME (the value comes from stdin, never an argument), or REPO NAME`);
    values.repo = names.shift()!;
  }
  const [name, ...extra] = names;
  if (!name || extra.length > 0) {
    throw new UsageError(`secret ${action}: give exactly one NAME${extra.length > 0 ? ' (the value comes from stdin, never an argument)' : ''}`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`secret ${action}: a secret name is letters, digits and _ (got "${name}")`);
  const path = values.repo === undefined ? `/api/secrets/${name}` : `/api/repos/${encodeURIComponent(values.repo)}/secrets/${name}`;
  const where = values.repo === undefined ? 'the server' : `repo ${values.repo}`;
  const options = clientOptions(values);
  if (action === 'delete') {
    if (scoped) throw new UsageError('secret delete: --branches, --events and --environments are for set');
    await request(options, 'DELETE', path);
    console.log(`deleted ${name} of ${where}`);
    return 0;
  }
  const scopes = {
    ...(values.branches !== undefined ? { branches: splitList(values.branches) } : {}),
    ...(values.events !== undefined ? { events: splitList(values.events) } : {}),
    ...(values.environments !== undefined ? { environments: splitList(values.environments) } : {}),
  };
  const value = await readValue(name);
  const secret = (await (await request(options, 'PUT', path, { value, ...scopes })).json()) as SecretJson;
  console.log(`set ${secret.name} of ${where} (${scopeText(secret)})`);
  return 0;
}

async function list(options: ClientOptions, repo: string | undefined): Promise<number> {
  let secrets: SecretJson[];
  if (repo === undefined) secrets = await getJson<SecretJson[]>(options, '/api/secrets');
  else {
    const base = `/api/repos/${encodeURIComponent(repo)}/secrets`;
    const names = await getJson<string[]>(options, base);
    secrets = await Promise.all(names.map((n) => getJson<SecretJson>(options, `${base}/${n}`)));
  }
  if (secrets.length === 0) {
    console.log(repo === undefined ? 'no server secrets' : `repo ${repo} has no secrets`);
    return 0;
  }
  const rows = [['NAME', 'LEVEL', 'BRANCHES', 'EVENTS', 'ENVIRONMENTS', 'UPDATED'],
    ...secrets.map((s) => [s.name, s.level, any(s.branches), any(s.events), any(s.environments), s.updated_at])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  return 0;
}

const any = (list: string[] | null) => (list === null ? 'any' : list.join(','));

function scopeText(s: SecretJson): string {
  const parts = [['branches', s.branches], ['events', s.events], ['environments', s.environments]] as const;
  const limited = parts.filter(([, list]) => list !== null).map(([what, list]) => `${what} ${list!.join(',')}`);
  return limited.length ? limited.join('; ') : 'any branch, event and environment';
}

/** `a,b,{c,d}/*` → ['a', 'b', '{c,d}/*']: commas inside a glob's braces are the glob's. */
export function splitList(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}' && depth > 0) depth--;
    current += ch;
  }
  items.push(current.trim());
  return text.trim() === '' ? [] : items;
}

/** The value from stdin: all of a pipe or file, or a line typed at a terminal without echo. */
async function readValue(name: string): Promise<string> {
  const value = await readSecretInput(`value of ${name}: `, 'secret set');
  if (value === '') {
    throw new UsageError(`secret set: the value of ${name} is empty; pipe it in (printf %s "$VALUE" | kiln secret set ${name}) or type it at a terminal`);
  }
  return value;
}
