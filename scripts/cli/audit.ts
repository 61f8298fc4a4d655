// `kiln audit`: the server's audit log (GET /api/audit), newest first, one line per change,
// or the raw JSON page with --json. Needs the admin token.
import { parseCommand } from './args.js';
import { clientOptions, getJson } from './client.js';

const USAGE = `Usage: kiln audit [--actor A] [--action X] [--target T] [--outcome O] [--since 24h] [--limit N] [--json]

The audit log, newest first: time, actor, address, action, target, outcome.
  --actor A     only this actor ("admin token", a user name, hook:github)
  --action X    only this action (run.trigger, secret.set, login, ...)
  --target T    only this target (repo/web, run/12, ...)
  --outcome O   ok, refused, failed or error
  --since T     an ISO time or a duration before now (24h, 7d)
  --limit N     how many (default 100, at most 1000)
  --json        the API's answer as JSON
  --server URL  default $KILN_SERVER or http://127.0.0.1:8080
  --token T     default $KILN_TOKEN (the admin token)`;

interface AuditJson {
  entries: Array<{ at: string; actor: string; address: string; action: string; target: string; outcome: string; status: number; detail: string }>;
  next: number | null;
}

const FILTERS = ['actor', 'action', 'target', 'outcome', 'since', 'limit'] as const;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, {
    actor: { type: 'string' }, action: { type: 'string' }, target: { type: 'string' }, outcome: { type: 'string' },
    since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, server: { type: 'string' }, token: { type: 'string' },
  }, USAGE);
  if (!parsed) return 0;
  const query = new URLSearchParams();
  for (const name of FILTERS) if (parsed.values[name] !== undefined) query.set(name, parsed.values[name]);
  const page = await getJson<AuditJson>(clientOptions(parsed.values), `/api/audit${query.size ? `?${query}` : ''}`);
  if (parsed.values.json) {
    console.log(JSON.stringify(page, null, 2));
    return 0;
  }
  if (page.entries.length === 0) console.log('nothing recorded');
  for (const e of page.entries) {
    const why = e.detail ? ` (${e.detail})` : '';
    console.log(`${e.at} ${e.actor} ${e.address} ${e.action} ${e.target || '-'} ${e.outcome} ${e.status}${why}`);
  }
  if (page.next !== null) console.log(`(older entries: --limit more, or GET /api/audit?before=${page.next})`);
  return 0;
}
