// `kiln repo add|list`: registering repos through the API, and what is registered. A source
// that looks like a URL is a remote the server polls; anything else a folder on the server's
// machine (resolved from here, so `kiln repo add web .` works where the server runs).
import { resolve } from 'node:path';
import { looksRemote } from '../../server/git/remote-url.js';
import { UsageError, parseCommand } from './args.js';
import { clientOptions, getJson, request, type RunJson } from './client.js';

const USAGE = `Usage: kiln repo add NAME PATH|URL
       kiln repo list

  add    registers a git repository with a pipeline.yml: a PATH on the server's machine
         (watched for commits) or a URL (https://, http://, ssh:// or user@host:path; polled).
         Credentials, a webhook secret and forge statuses: PATCH /api/repos/NAME (see README).
         Needs the admin token in KILN_TOKEN.
  list   each repo: name, source, default branch, and its default branch's last run
  --server URL  default $KILN_SERVER or http://127.0.0.1:8080
  --token T     default $KILN_TOKEN`;

interface RepoJson {
  name: string;
  path: string | null;
  url: string | null;
  default_branch: string;
  branches: Record<string, RunJson>;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { server: { type: 'string' }, token: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const [action, ...rest] = parsed.positionals;
  const options = clientOptions(parsed.values);
  if (action === 'list') {
    if (rest.length > 0) throw new UsageError('repo list takes no arguments', USAGE);
    return list(await getJson<RepoJson[]>(options, '/api/repos'));
  }
  if (action !== 'add') throw new UsageError(action === undefined ? 'repo: say add or list' : `repo: unknown action "${action}" (add or list)`, USAGE);
  const [name, source, ...extra] = rest;
  if (!name || !source || extra.length > 0) throw new UsageError('repo add: give NAME and PATH|URL', USAGE);
  const body = looksRemote(source) ? { name, url: source } : { name, path: resolve(source) };
  const repo = (await (await request(options, 'POST', '/api/repos', body)).json()) as RepoJson;
  console.log(`registered ${repo.name}: ${repo.path ?? repo.url} (default branch ${repo.default_branch})`);
  console.log(`  build its head now: kiln trigger ${repo.name}   page: ${options.server}/repos/${encodeURIComponent(repo.name)}`);
  return 0;
}

function list(repos: RepoJson[]): number {
  if (repos.length === 0) {
    console.log('no repos yet: kiln repo add NAME PATH|URL');
    return 0;
  }
  const rows = [['NAME', 'SOURCE', 'DEFAULT', 'LAST RUN'], ...repos.map((r) => {
    const last = r.branches[r.default_branch];
    return [r.name, r.path ?? r.url ?? '', r.default_branch, last ? `#${last.number} ${last.status}` : '-'];
  })];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  return 0;
}
