// The long-lived `git cat-file --batch-command` reader and the mirror view on top of it, on real repositories.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMirrors } from '../../../server/git/mirror.js';
import { createMirrorView } from '../../../server/git/mirror-view.js';
import { createObjectReader, type ObjectReader } from '../../../server/git/object-reader.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../../helpers/git.js';
import { eventually } from '../../helpers/kiln.js';

let repo: TestRepo;
let mirror: string;
const shas: string[] = [];

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  for (let i = 0; i < 20; i++) {
    shas.push(await repo.commit({ 'pipeline.yml': `name: n${i}\n`, [`f${i}.txt`]: 'x'.repeat(i * 5000) }, `commit ${i}\n\nthe body of ${i}`));
  }
  await writeFile(join(repo.path, 'big.bin'), Buffer.alloc(1024 * 1024 + 1, 'y'));
  shas.push(await repo.commit({}, 'big file'));
  mirror = join(await makeTempDir(), 'repo.git');
  await createMirrors().fetchMirror({ path: repo.path }, mirror);
});
afterAll(removeTempDirs);

describe('the object reader', () => {
  it('answers many concurrent requests correctly and in order, on one git process', async () => {
    const reader = createObjectReader({ gitDir: mirror });
    const asked = shas.slice(0, 20).flatMap((sha, i) => [
      reader.contents(`${sha}:pipeline.yml`).then((o) => o?.data.toString()),
      reader.info(`${sha}:f${i}.txt`).then((o) => o?.size),
      reader.contents(`${sha}:f${i}.txt`).then((o) => o?.data.length),
      reader.info(`${sha}^{commit}`).then((o) => o?.oid),
    ]);
    const pid = reader.pid;
    expect(pid).not.toBeNull();
    const answers = await Promise.all(asked);
    expect(answers).toEqual(shas.slice(0, 20).flatMap((sha, i) => [`name: n${i}\n`, i * 5000, i * 5000, sha]));
    expect(reader.pid).toBe(pid);
    await reader.close();
  });

  it('answers null for a missing object and goes on', async () => {
    const reader = createObjectReader({ gitDir: mirror });
    const [missing, file, ok] = await Promise.all([
      reader.contents('f'.repeat(40)), reader.info(`${shas[0]}:no-such-file`), reader.contents(`${shas[1]}:pipeline.yml`),
    ]);
    expect([missing, file]).toEqual([null, null]);
    expect(ok?.data.toString()).toBe('name: n1\n');
    await expect(reader.info('-bad\nname')).rejects.toMatchObject({ code: 'bad_input' });
    await reader.close();
  });

  it('rejects what a killed git had not answered, and the next request starts a new git', async () => {
    const reader = createObjectReader({ gitDir: mirror });
    await reader.info(shas[0]!);
    const first = reader.pid!;
    const pending = Array.from({ length: 50 }, (_, i) => reader.contents(`${shas[i % 20]}:f${i % 20}.txt`).then(() => 'answered', () => 'rejected'));
    process.kill(first, 'SIGKILL');
    const outcomes = await Promise.all(pending);
    expect(outcomes).toContain('rejected');
    expect((await reader.contents(`${shas[3]}:pipeline.yml`))?.data.toString()).toBe('name: n3\n');
    expect(reader.pid).not.toBe(first);
    await reader.close();
  });

  it('ends its git after being idle, starts again when asked, and refuses requests once closed', async () => {
    const reader = createObjectReader({ gitDir: mirror, idleMs: 50 });
    await reader.info(shas[0]!);
    await eventually(() => reader.pid === null, 5000, 'the idle git to end');
    expect((await reader.info(shas[1]!))?.oid).toBe(shas[1]);
    const last = reader.info(shas[2]!);
    await reader.close();
    expect((await last)?.oid).toBe(shas[2]); // asked before close: still answered
    await expect(reader.info(shas[0]!)).rejects.toThrow(/closed/);
  });
});

describe('the mirror view', () => {
  /** A real reader that records the names whose content was read. */
  const recording = (): { reader: ObjectReader; read: string[] } => {
    const real = createObjectReader({ gitDir: mirror });
    const read: string[] = [];
    return {
      read,
      reader: { info: (n) => real.info(n), contents: (n) => (read.push(n), real.contents(n)), close: () => real.close(), get pid() { return real.pid; } },
    };
  };

  it('refuses a file over the cap with too_large without reading its content', async () => {
    const { reader, read } = recording();
    const view = createMirrorView(mirror, { reader });
    await expect(view.fileAt(shas[20]!, 'big.bin')).rejects.toMatchObject({ code: 'too_large', message: expect.stringMatching(/^big\.bin is 1048577 bytes at [0-9a-f]{12}, more than the 1048576-byte limit$/) });
    expect(read).toEqual([]);
    expect((await view.fileAt(shas[20]!, 'big.bin', 2 * 1024 * 1024))?.size).toBe(1024 * 1024 + 1);
    await view.close();
  });

  it('describes commits, finds files and short shas, and says not_found for a commit the mirror lacks', async () => {
    const view = createMirrorView(mirror);
    expect(await view.commitInfo(shas[4]!)).toMatchObject({ sha: shas[4], message: 'commit 4', author: 'Kiln Test', authorEmail: 'test@kiln.invalid' });
    expect(Math.abs(Date.parse((await view.commitInfo(shas[4]!)).time) - Date.now())).toBeLessThan(600_000);
    expect(await view.findCommit(shas[5]!.slice(0, 10))).toBe(shas[5]);
    expect(await view.findCommit('a'.repeat(40))).toBeNull();
    const file = await view.fileAt(shas[6]!, 'pipeline.yml');
    expect(await view.blobText(file!.oid)).toBe('name: n6\n');
    expect(await view.fileAt(shas[6]!, 'nope.yml')).toBeNull();
    await expect(view.fileAt('b'.repeat(40), 'pipeline.yml')).rejects.toMatchObject({ code: 'not_found' });
    await expect(view.commitInfo('c'.repeat(40))).rejects.toMatchObject({ code: 'not_found' });
    await expect(view.fileAt(shas[6]!, '../x')).rejects.toMatchObject({ code: 'bad_input' });
    expect((await view.refs()).get('refs/heads/main')).toEqual({ oid: shas[20], commit: shas[20] });
    await view.close();
  });
});
