// The spool keeps unacknowledged chunks on disk, replays them in order, and survives a restart.
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogChunk } from '../../../agent/logs/chunk.js';
import { openSpool } from '../../../agent/logs/spool.js';
import { useTempDirs } from '../../helpers/tmp.js';

const chunk = (seq: number, jobId = 17, attempt = 1): LogChunk => ({
  jobId, attempt, seq, lines: [{ t: 1000 + seq, stream: 'stdout', step: 0, text: `line ${seq}` }],
});

async function collect(iterable: AsyncIterable<LogChunk>): Promise<string[]> {
  const seen: string[] = [];
  for await (const c of iterable) seen.push(`${c.jobId}#${c.attempt}:${c.seq}`);
  return seen;
}

describe('log spool', () => {
  const tempDir = useTempDirs('kiln-spool-');

  it('returns every unacknowledged chunk in order, and forgets acknowledged ones (acks are cumulative)', async () => {
    const spool = await openSpool({ dir: await tempDir() });
    await Promise.all([0, 1, 2, 3].map((seq) => spool.append(chunk(seq))));
    expect(await collect(spool.unacked())).toEqual(['17#1:0', '17#1:1', '17#1:2', '17#1:3']);
    await spool.ack(17, 1, 1);
    expect(await collect(spool.unacked({ jobId: 17, attempt: 1 }))).toEqual(['17#1:2', '17#1:3']);
    await spool.ack(17, 1, 0); // stale ack: no effect
    expect(spool.jobs()).toEqual([{ jobId: 17, attempt: 1, ackedSeq: 1, lastSeq: 3 }]);
  });

  it('keeps the chunks on disk, and empties the file once everything is acknowledged', async () => {
    const dir = await tempDir();
    const spool = await openSpool({ dir });
    await spool.append(chunk(0));
    await spool.append(chunk(1));
    const file = join(dir, '17.1.chunks');
    expect((await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l))).toEqual([chunk(0), chunk(1)]);
    await spool.ack(17, 1, 1);
    expect(await readFile(file, 'utf8')).toBe('');
    await spool.append(chunk(2));
    expect(await collect(spool.unacked())).toEqual(['17#1:2']);
    expect(spool.jobs()).toEqual([{ jobId: 17, attempt: 1, ackedSeq: 1, lastSeq: 2 }]);
  });

  it('after a restart, a file emptied by a full ack and written again replays from its first chunk', async () => {
    // The job's first lines were all acknowledged (the file emptied, no `.acked` kept), then its
    // end was written while the server was gone: the next process must send that end.
    const dir = await tempDir();
    const before = await openSpool({ dir });
    await before.append(chunk(0));
    await before.append(chunk(1));
    await before.ack(17, 1, 1);
    await before.append(chunk(2));
    await before.finish(17, 1);

    const after = await openSpool({ dir });
    expect(after.jobs()).toEqual([{ jobId: 17, attempt: 1, ackedSeq: 1, lastSeq: 2 }]);
    expect(await collect(after.unacked())).toEqual(['17#1:2']);
  });

  it('replays what was not acknowledged after a restart (the folder reopened), per job and in order', async () => {
    const dir = await tempDir();
    const before = await openSpool({ dir });
    for (const seq of [0, 1, 2, 3, 4]) await before.append(chunk(seq, 5));
    for (const seq of [0, 1]) await before.append(chunk(seq, 6, 3));
    await before.ack(5, 1, 2);
    await appendFile(join(dir, '5.1.chunks'), '{"jobId":5,"attempt":1,"seq":5,"li'); // crashed mid-write

    const after = await openSpool({ dir });
    expect(after.jobs()).toEqual([
      { jobId: 5, attempt: 1, ackedSeq: 2, lastSeq: 4 },
      { jobId: 6, attempt: 3, ackedSeq: -1, lastSeq: 1 },
    ]);
    expect(await collect(after.unacked())).toEqual(['5#1:3', '5#1:4', '6#3:0', '6#3:1']);
    const replayed: LogChunk[] = [];
    for await (const c of after.unacked({ jobId: 6, attempt: 3 })) replayed.push(c);
    expect(replayed).toEqual([chunk(0, 6, 3), chunk(1, 6, 3)]);
  });

  it('removes a finished job once all of its chunks are acknowledged, before or after finish', async () => {
    const dir = await tempDir();
    const spool = await openSpool({ dir });
    await spool.append(chunk(0, 8));
    await spool.finish(8, 1);
    expect((await readdir(dir)).sort()).toEqual(['8.1.chunks']);
    await spool.ack(8, 1, 0);
    await spool.append(chunk(0, 9));
    await spool.ack(9, 1, 0);
    await spool.finish(9, 1);
    expect(await readdir(dir)).toEqual([]);
    expect(spool.jobs()).toEqual([]);
    expect(await collect(spool.unacked())).toEqual([]);
  });

  it('removes jobs left from before a restart once the server acknowledges them', async () => {
    const dir = await tempDir();
    const before = await openSpool({ dir });
    await before.append(chunk(0, 42));
    const after = await openSpool({ dir });
    await after.ack(42, 1, 0);
    expect(await readdir(dir)).toEqual([]);
  });
});
