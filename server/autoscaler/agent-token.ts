// How docker and swarm pool agents get the agent token: as a file (KILN_AGENT_TOKEN_FILE),
// never in the container's environment, where `docker inspect` would show it.
import { createHash } from 'node:crypto';
import { Header, Pack, ReadEntry } from 'tar';

/** Where a docker pool's agent container finds the token (copied in before it starts). */
export const CONTAINER_TOKEN_FILE = '/run/kiln/agent.token';

/** Who owns the token file in the agent's container, and its mode. */
export interface TokenFileOwner { uid: number; gid: number; mode: number }

/**
 * The owner for an image's `Config.User`: numeric `uid[:gid]` (or none: root) → that user,
 * mode 0400. A user name cannot be resolved without the image's /etc/passwd: then root owns it
 * with mode 0444. Why that is acceptable: only the agent's own user runs in an agent container,
 * and its job steps (same user) could read the agent's token from its process anyway.
 */
export function tokenFileOwner(user: string | undefined): TokenFileOwner {
  const [uid = '', gid = ''] = (user ?? '').split(':');
  if (uid === '') return { uid: 0, gid: 0, mode: 0o400 };
  if (!/^\d+$/.test(uid)) return { uid: 0, gid: 0, mode: 0o444 };
  return { uid: Number(uid), gid: /^\d+$/.test(gid) ? Number(gid) : 0, mode: 0o400 };
}

/** A short hash of the token that names it (swarm secrets) without telling it. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 12);

/**
 * A tar (made by node-tar, for `container.putArchive` at `/`) holding `file` with `token` and
 * its folder: the image may lack it. The folder is root's, 0755; the file `owner`'s.
 */
export async function tokenArchive(file: string, token: string, owner: TokenFileOwner): Promise<Buffer> {
  const pack = new Pack({ portable: false });
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  const mtime = new Date();
  const relative = file.replace(/^\/+/, '');
  const folder = relative.slice(0, relative.lastIndexOf('/') + 1);
  if (folder) {
    const dir = new ReadEntry(new Header({ path: folder, type: 'Directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime }));
    pack.add(dir);
    dir.end();
  }
  const data = Buffer.from(`${token}\n`);
  const entry = new ReadEntry(new Header({ path: relative, type: 'File', mode: owner.mode, uid: owner.uid, gid: owner.gid, size: data.length, mtime }));
  pack.add(entry);
  entry.end(data);
  pack.end();
  await ended;
  return Buffer.concat(chunks);
}
