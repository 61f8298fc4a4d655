// The token file's owner from an image's user, and the archive that carries it.
import { describe, expect, it } from 'vitest';
import { list } from 'tar';
import { Readable } from 'node:stream';
import { tokenArchive, tokenFileOwner, tokenHash } from '../../../server/autoscaler/agent-token.js';

describe('the agent token file of docker and swarm agents', () => {
  it.each([
    ['', { uid: 0, gid: 0, mode: 0o400 }],
    ['10001:10001', { uid: 10001, gid: 10001, mode: 0o400 }],
    ['10001', { uid: 10001, gid: 0, mode: 0o400 }],
    ['10001:kiln', { uid: 10001, gid: 0, mode: 0o400 }],
    ['kiln', { uid: 0, gid: 0, mode: 0o444 }],
    ['kiln:kiln', { uid: 0, gid: 0, mode: 0o444 }],
  ])('is owned by the image user %j as %j', (user, owner) => {
    expect(tokenFileOwner(user)).toEqual(owner);
  });

  it('is packed with its folder, owner and mode by node-tar', async () => {
    const archive = await tokenArchive('/run/kiln/agent.token', 'tok-123', { uid: 10001, gid: 10001, mode: 0o400 });
    const entries: Array<{ path: string; mode?: number; uid?: number; type: string; body: string }> = [];
    await new Promise<void>((resolve, reject) => {
      const parser = list({
        onReadEntry: (e) => {
          let body = '';
          e.on('data', (c: Buffer) => (body += c.toString()));
          e.on('end', () => entries.push({ path: e.path, mode: e.mode, uid: e.uid, type: e.type, body }));
        },
      });
      parser.on('end', resolve).on('error', reject);
      Readable.from([archive]).pipe(parser as unknown as NodeJS.WritableStream);
    });
    expect(entries).toEqual([
      { path: 'run/kiln/', mode: 0o755, uid: 0, type: 'Directory', body: '' },
      { path: 'run/kiln/agent.token', mode: 0o400, uid: 10001, type: 'File', body: 'tok-123\n' },
    ]);
    expect(tokenHash('tok-123')).toMatch(/^[0-9a-f]{12}$/);
  });
});
