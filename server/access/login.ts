// Password logins, for the dashboard's form and `POST /api/login`: the name and password
// checked (in constant work whether the user exists or not), with a back-off against
// guessing: after 5 wrong tries for a name, or 20 from one address, in 15 minutes, that name or
// address is refused for the rest of the window (429), right password or not.
import { KilnError } from '../../shared/errors.js';
import type { Store, User } from '../store/index.js';
import { verifyPassword } from './passwords.js';

const WINDOW_MS = 15 * 60 * 1000;
const PER_NAME = 5;
const PER_ADDRESS = 20;
const MAX_TRACKED = 10_000;

export type Login = (name: string, password: string, address: string) => Promise<User>;

export function createLogin(store: Store, now: () => number = Date.now): Login {
  const failures = new Map<string, { count: number; since: number }>();
  const over = (key: string, limit: number) => {
    const f = failures.get(key);
    if (!f) return false;
    if (now() - f.since >= WINDOW_MS) {
      failures.delete(key);
      return false;
    }
    return f.count >= limit;
  };
  const fail = (key: string) => {
    if (failures.size >= MAX_TRACKED) failures.delete(failures.keys().next().value!);
    const f = failures.get(key);
    if (f && now() - f.since < WINDOW_MS) f.count++;
    else failures.set(key, { count: 1, since: now() });
  };
  return async (name, password, address) => {
    const nameKey = `name:${name.toLowerCase()}`;
    const addressKey = `address:${address}`;
    if (over(nameKey, PER_NAME) || over(addressKey, PER_ADDRESS)) {
      throw new KilnError('too_many', 'too many failed logins: wait 15 minutes');
    }
    const user = store.users.getUserByName(name);
    const usable = user !== null && !user.disabled;
    const ok = await verifyPassword(password, usable ? store.users.passwordHashOf(user.id) : null);
    if (!ok || !usable) {
      fail(nameKey);
      fail(addressKey);
      throw new KilnError('unauthorized', 'wrong user name or password');
    }
    failures.delete(nameKey);
    store.users.touchLogin(user.id);
    return user;
  };
}
