// The spool, reopened by a new agent process, forgets jobs whose chunks were all acknowledged.
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openSpool } from '../../../agent/logs/spool.js';
import { useTempDirs } from '../../helpers/tmp.js';

describe('spool reopened after a crash', () => {
  const tempDir = useTempDirs('kiln-spool-');

  it('removes the files of a job that was all acknowledged but never finished', async () => {
    const dir = await tempDir();
    const before = await openSpool({ dir });
    await before.append({ jobId: 3, attempt: 1, seq: 0, lines: [] });
    await before.ack(3, 1, 0); // the process dies here, mid-job: no finish
    expect((await readdir(dir)).sort()).toEqual(['3.1.chunks']); // emptied; an ack of everything needs no record
    const after = await openSpool({ dir });
    expect(after.jobs()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });
});
