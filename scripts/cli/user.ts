// `kiln user add|list|role|delete`: the server's users through the API (a server admin's token),
// or, with --data DIR, straight in the data folder's database: that is how the first admin is
// made before any user exists (the admin token works for that too). Passwords come from stdin.
import { join } from 'node:path';
import { UsageError, parseCommand } from './args.js';
import { clientOptions, getJson, request } from './client.js';
import { readSecretInput } from './stdin.js';

const USAGE = `Usage: kiln user add NAME [--admin] [--email E] [--group G]... [--no-password] [--data DIR]
       kiln user list [--data DIR]
       kiln user role NAME REPO ROLE      (REPO: a repo's name, or '*' for every repo; ROLE: viewer,
                                           developer, maintainer, admin, or none to remove it)
       kiln user delete NAME

Users of the server and their roles. Through the API with a server admin's token (KILN_TOKEN: the
admin token, or an admin user's token of scope admin), or with --data DIR directly in that data
folder's database (for the first admin: kiln user add alice --admin --data /var/lib/kiln).
  add           reads the password from stdin: a pipe (printf %s "$PASSWORD" | kiln user add alice),
                or typed at a terminal without echo; at least 10 characters. --no-password: a user
                who signs in with SSO only (or gets a password later)
  --admin       a server admin: every role on every repo, users, the audit log
  --group G     a group (approvers may name group:G); repeatable
  --server URL  default $KILN_SERVER or http://127.0.0.1:8080
  --token T     default $KILN_TOKEN`;

interface UserJson { name: string; email: string | null; admin: boolean; groups: string[]; source: string; disabled: boolean; roles: Record<string, string>; last_login_at: string | null }

const OPTIONS = {
  admin: { type: 'boolean' }, email: { type: 'string' }, group: { type: 'string', multiple: true }, 'no-password': { type: 'boolean' },
  data: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' },
} as const;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, USAGE);
  if (!parsed) return 0;
  const [action, ...args] = parsed.positionals;
  const { values } = parsed;
  switch (action) {
    case 'add': {
      if (args.length !== 1) throw new UsageError('user add: give one NAME (the password comes from stdin)', USAGE);
      const password = values['no-password'] ? undefined : await readSecretInput(`password of ${args[0]}: `, 'user add');
      if (password === '') throw new UsageError('user add: the password is empty; pipe it in or type it at a terminal (or --no-password)', USAGE);
      const body = { name: args[0]!, ...(password !== undefined ? { password } : {}), ...(values.email ? { email: values.email } : {}), admin: values.admin ?? false, groups: values.group ?? [] };
      const user = values.data ? await addOffline(values.data, body) : await (await request(clientOptions(values), 'POST', '/api/users', body)).json() as UserJson;
      console.log(`added ${user.admin ? 'server admin' : 'user'} ${user.name}`);
      return 0;
    }
    case 'list': {
      const users = values.data ? await listOffline(values.data) : await getJson<UserJson[]>(clientOptions(values), '/api/users');
      if (users.length === 0) console.log('no users');
      for (const u of users) {
        const roles = Object.entries(u.roles).map(([repo, role]) => `${repo}:${role}`).join(',') || '-';
        console.log(`${u.name}\t${u.admin ? 'admin' : 'user'}\t${u.source}${u.disabled ? ' disabled' : ''}\troles ${roles}\tgroups ${u.groups.join(',') || '-'}\tlast login ${u.last_login_at ?? 'never'}`);
      }
      return 0;
    }
    case 'role': {
      if (args.length !== 3) throw new UsageError('user role: give NAME REPO ROLE', USAGE);
      const [name, repo, role] = args as [string, string, string];
      const path = `/api/users/${encodeURIComponent(name)}/roles/${encodeURIComponent(repo)}`;
      if (role === 'none') await request(clientOptions(values), 'DELETE', path);
      else await request(clientOptions(values), 'PUT', path, { role });
      console.log(role === 'none' ? `${name} has no role of its own on ${repo}` : `${name} is ${role} on ${repo === '*' ? 'every repo' : repo}`);
      return 0;
    }
    case 'delete': {
      if (args.length !== 1) throw new UsageError('user delete: give one NAME', USAGE);
      await request(clientOptions(values), 'DELETE', `/api/users/${encodeURIComponent(args[0]!)}`);
      console.log(`deleted user ${args[0]}`);
      return 0;
    }
    default:
      throw new UsageError(action === undefined ? 'user: say add, list, role or delete (see --help)' : `user: unknown action "${action}" (add, list, role or delete)`, USAGE);
  }
}

// Why the server's own code: the same checks (name, password length) and the same hashing as the API.
async function openOffline(dataDir: string) {
  const { openDatabase } = await import('../../server/store/index.js');
  return openDatabase(join(dataDir, 'kiln.db'));
}

async function addOffline(dataDir: string, body: { name: string; password?: string; email?: string; admin: boolean; groups: string[] }): Promise<UserJson> {
  const { checkBody } = await import('../../server/api/http.js');
  const { hashPassword } = await import('../../server/access/passwords.js');
  const { userView } = await import('../../server/api/routes/users.js');
  const checked = await checkBody('user', body);
  const passwordHash = checked.password === undefined ? null : await hashPassword(checked.password);
  const store = await openOffline(dataDir);
  try {
    return userView(store.users.addUser({ name: checked.name, email: checked.email ?? null, passwordHash, admin: checked.admin ?? false, groups: checked.groups ?? [] }));
  } finally {
    store.close();
  }
}

async function listOffline(dataDir: string): Promise<UserJson[]> {
  const { userView } = await import('../../server/api/routes/users.js');
  const store = await openOffline(dataDir);
  try {
    return store.users.listUsers().map(userView);
  } finally {
    store.close();
  }
}
