import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createTrash } from '../../../agent/jobs/trash.js';
import { makeTempDir, removeTempDirs } from '../../helpers/git.js';

afterAll(removeTempDirs);
const logger = pino({ level: 'silent' });

describe('agent trash', () => {
  it('is emptied while jobs run once it holds 16 moves, so its disk use stays bounded', async () => {
    const root = await makeTempDir('kiln-trash-');
    const trash = createTrash(join(root, 'trash'), { busy: () => true, logger });
    for (let i = 1; i <= 16; i++) {
      await mkdir(join(root, `out-${i}`));
      await writeFile(join(root, `out-${i}`, 'f'), 'x');
      await trash.put(join(root, `out-${i}`));
      expect(existsSync(join(root, `out-${i}`))).toBe(false);
      if (i === 15) {
        await trash.empty();
        expect(await readdir(join(root, 'trash'))).toHaveLength(15);
      }
    }
    await trash.empty();
    expect(await readdir(join(root, 'trash'))).toEqual([]);
  });

  it('takes a path that is already gone, and removes in place what it cannot move', async () => {
    const root = await makeTempDir('kiln-trash-');
    const trash = createTrash(join(root, 'trash'), { busy: () => false, logger });
    await trash.put(join(root, 'never-there'));
    // The trash's folder cannot be made (a file stands there): the path is removed where it is.
    await writeFile(join(root, 'blocked'), '');
    const blocked = createTrash(join(root, 'blocked', 'trash'), { busy: () => false, logger });
    await writeFile(join(root, 'victim'), 'x');
    await blocked.put(join(root, 'victim'));
    expect(existsSync(join(root, 'victim'))).toBe(false);
  });
});
