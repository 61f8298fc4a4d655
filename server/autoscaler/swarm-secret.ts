// The agent token of a swarm pool as a swarm secret, `kiln-agent-token-<pool>-<token hash>`:
// mounted in each task at /run/secrets/kiln-agent-token, never in the service spec. A new token
// is a new secret name, so a new template hash: swarm rolls the agents onto it.
import type Docker from 'dockerode';
import { tokenFileOwner, tokenHash } from './agent-token.js';

/** Where a swarm agent finds the token. */
export const SECRET_FILE_NAME = 'kiln-agent-token';
export const SECRET_TOKEN_FILE = `/run/secrets/${SECRET_FILE_NAME}`;

/** The secret as a service's ContainerSpec.Secrets names it. */
export interface TokenSecret { SecretID: string; SecretName: string; File: { Name: string; UID: string; GID: string; Mode: number } }

const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;
const secretName = (pool: string, token: string) => `kiln-agent-token-${pool}-${tokenHash(token)}`;
const LABEL = 'kiln.agent-token';

/**
 * The pool's token secret, made when missing. The file's owner is the image's user when the
 * manager has the image (numeric uid: 0400), else root with 0444 (see tokenFileOwner).
 */
export async function ensureTokenSecret(docker: Docker, pool: string, token: string, image: string): Promise<TokenSecret> {
  const name = secretName(pool, token);
  const find = async () => ((await docker.listSecrets({ filters: { name: [name] } })) as Array<{ ID: string; Spec?: { Name?: string } }>).find((s) => s.Spec?.Name === name);
  let found = await find();
  if (!found) {
    try {
      await docker.createSecret({ Name: name, Labels: { 'kiln.pool': pool, [LABEL]: '1' }, Data: Buffer.from(token).toString('base64') });
    } catch (error) {
      if (statusOf(error) !== 409) throw error; // 409: made meanwhile by another deploy
    }
    found = await find();
    if (!found) throw new Error(`swarm secret ${name} was made but cannot be found`);
  }
  const user = await docker.getImage(image).inspect().then((i) => i.Config?.User, () => undefined);
  const owner = user === undefined ? { uid: 0, gid: 0, mode: 0o444 } : tokenFileOwner(user);
  return { SecretID: found.ID, SecretName: name, File: { Name: SECRET_FILE_NAME, UID: String(owner.uid), GID: String(owner.gid), Mode: owner.mode } };
}

/** Removes the pool's older token secrets; one a service still uses is refused by swarm and kept for a later pass. */
export async function pruneTokenSecrets(docker: Docker, pool: string, keep: string): Promise<string[]> {
  const all = (await docker.listSecrets({ filters: { label: [`kiln.pool=${pool}`, LABEL] } })) as Array<{ ID: string; Spec?: { Name?: string } }>;
  const removed: string[] = [];
  for (const secret of all) {
    if (secret.Spec?.Name === keep) continue;
    try {
      await docker.getSecret(secret.ID).remove();
      removed.push(secret.Spec?.Name ?? secret.ID);
    } catch {
      // in use by the service's previous spec or tasks still ending: the next pass tries again
    }
  }
  return removed;
}
