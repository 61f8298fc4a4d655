// `kiln token create|list|revoke`: API tokens of a user (your own with your token, anyone's with
// a server admin's and --user). A new token is printed once, on stdout alone, so that it can be
// piped into a secret store; the server keeps only its hash.
import { UsageError, parseCommand } from './args.js';
import { clientOptions, getJson, request } from './client.js';

const USAGE = `Usage: kiln token create NAME --scope read|run|admin [--repos R1,R2] [--expires 90d|never] [--user U]
       kiln token list [--user U | --all]
       kiln token revoke ID

API tokens, as Authorization: Bearer <token> (KILN_TOKEN for this command line).
  --scope      read: what a viewer may; run: also trigger, cancel, re-run and approve (as a developer);
               admin: everything its user may
  --repos      only these repos (default: every repo the user may reach)
  --expires    a duration (default 90d), or never
  --user U     a server admin acting for user U (the admin token has no tokens of its own)
  --all        every user's tokens (server admins)
  --server URL default $KILN_SERVER or http://127.0.0.1:8080
  --token T    default $KILN_TOKEN`;

interface TokenJson { id: number; user: string; name: string; scope: string; repos: string[] | null; created_at: string; expires_at: string | null; last_used_at: string | null; token?: string }

const OPTIONS = {
  scope: { type: 'string' }, repos: { type: 'string' }, expires: { type: 'string' }, user: { type: 'string' }, all: { type: 'boolean' },
  server: { type: 'string' }, token: { type: 'string' },
} as const;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, USAGE);
  if (!parsed) return 0;
  const [action, ...args] = parsed.positionals;
  const { values } = parsed;
  const client = clientOptions(values);
  const forUser = values.user ? `?user=${encodeURIComponent(values.user)}` : '';
  switch (action) {
    case 'create': {
      if (args.length !== 1) throw new UsageError('token create: give one NAME', USAGE);
      if (!values.scope) throw new UsageError('token create: --scope read, run or admin is required', USAGE);
      const body = {
        name: args[0], scope: values.scope,
        ...(values.repos ? { repos: values.repos.split(',').map((r) => r.trim()).filter(Boolean) } : {}),
        ...(values.expires ? { expires_in: values.expires === 'never' ? null : values.expires } : {}),
      };
      const made = await (await request(client, 'POST', `/api/tokens${forUser}`, body)).json() as TokenJson;
      console.error(`token ${made.name} (id ${made.id}) of ${made.user}, scope ${made.scope}${made.repos ? ` on ${made.repos.join(', ')}` : ''}, ${made.expires_at ? `expires ${made.expires_at}` : 'never expires'}; it is shown only now:`);
      console.log(made.token);
      return 0;
    }
    case 'list': {
      if (args.length > 0) throw new UsageError('token list takes no arguments', USAGE);
      const tokens = await getJson<TokenJson[]>(client, `/api/tokens${values.all ? '?all=1' : forUser}`);
      if (tokens.length === 0) console.log('no tokens');
      for (const t of tokens) {
        console.log(`${t.id}\t${t.user}\t${t.name}\t${t.scope}\t${t.repos?.join(',') ?? 'all repos'}\texpires ${t.expires_at ?? 'never'}\tlast used ${t.last_used_at ?? 'never'}`);
      }
      return 0;
    }
    case 'revoke': {
      if (args.length !== 1 || !/^\d+$/.test(args[0]!)) throw new UsageError('token revoke: give the token\'s ID (kiln token list shows it)', USAGE);
      await request(client, 'DELETE', `/api/tokens/${args[0]}`);
      console.log(`revoked token ${args[0]}`);
      return 0;
    }
    default:
      throw new UsageError(action === undefined ? 'token: say create, list or revoke (see --help)' : `token: unknown action "${action}" (create, list or revoke)`, USAGE);
  }
}
