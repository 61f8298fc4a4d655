// Images per pull policy on a real engine with no registry, and pull progress as a few log lines.
import { describe, expect, it } from 'vitest';
import { ensureImage } from '../../../../agent/executors/docker/images.js';
import { createPullProgress } from '../../../../agent/executors/docker/pull-progress.js';
import { KilnError } from '../../../../shared/errors.js';
import type { PullPolicy } from '../../../../shared/pipeline/types.js';
import { skipDocker } from '../../../helpers/docker.js';
import { docker } from './helpers.js';

describe.skipIf(skipDocker())('ensureImage', () => {
  const ensure = async (image: string, policy: PullPolicy, signal?: AbortSignal) => {
    const lines: string[] = [];
    const t0 = Date.now();
    const error = await ensureImage({ docker, image, policy, log: (t) => lines.push(t), ...(signal ? { signal } : {}) }).then(() => null, (e: unknown) => e);
    return { error, lines, ms: Date.now() - t0 };
  };

  it('uses a present image without pulling under `if-not-present` and `never`', async () => {
    for (const policy of ['if-not-present', 'never'] as const) {
      expect(await ensure('busybox:latest', policy)).toMatchObject({ error: null, lines: [] });
    }
  });

  it('refuses an absent image under `never`, saying so', async () => {
    const { error, lines } = await ensure('kiln-test/absent:1', 'never');
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).message).toBe('image kiln-test/absent:1 is not present and pull is never');
    expect(lines).toEqual([]);
  });

  it('tries to pull an absent image and fails quickly with the daemon\'s reason on one line', async () => {
    const { error, lines, ms } = await ensure('kiln-test/absent:1', 'if-not-present');
    expect((error as KilnError).code).toBe('not_found');
    expect((error as KilnError).message).toMatch(/^cannot pull kiln-test\/absent:1: [^\n]*\S$/);
    expect((error as KilnError).message).not.toContain('HTTP code');
    expect(lines).toEqual(['pulling kiln-test/absent:1 (pull: if-not-present, not present)']);
    expect(ms).toBeLessThan(10_000);
  });

  it('pulls a present image again under `always` (which fails here: no registry answers)', async () => {
    const { error, lines } = await ensure('busybox:latest', 'always');
    expect((error as KilnError).message).toMatch(/^cannot pull busybox:latest: /);
    expect(lines).toEqual(['pulling busybox:latest (pull: always)']);
  });

  it('gives up a pull when the job is cancelled', async () => {
    const abort = new AbortController();
    abort.abort();
    const { error } = await ensure('kiln-test/absent:1', 'always', abort.signal);
    expect((error as KilnError).message).toBe('cannot pull kiln-test/absent:1: cancelled');
  });
});

describe('pull progress', () => {
  it('logs each layer once when done, totals at most every 5 s, and a closing line with the digest', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = createPullProgress('node:20', (t) => lines.push(t), () => now);
    progress.onEvent({ status: 'Pulling from library/node', id: '20' });
    for (const id of ['aaa', 'bbb', 'ccc']) progress.onEvent({ status: 'Pulling fs layer', id });
    progress.onEvent({ status: 'Already exists', id: 'aaa' });
    for (let i = 1; i <= 100; i++) {
      now = i * 100;
      progress.onEvent({ status: 'Downloading', id: 'bbb', progressDetail: { current: i * 1e6, total: 100e6 } });
      progress.onEvent({ status: 'Downloading', id: 'ccc', progressDetail: { current: i * 0.5e6, total: 50e6 } });
    }
    for (const id of ['bbb', 'ccc']) {
      progress.onEvent({ status: 'Extracting', id, progressDetail: { current: 1, total: 2 } });
      progress.onEvent({ status: 'Pull complete', id });
      progress.onEvent({ status: 'Pull complete', id });
    }
    progress.onEvent({ status: 'Digest: sha256:abc' });
    progress.onEvent({ status: 'Status: Downloaded newer image for node:20' });
    now = 12_345;
    progress.finish();
    expect(lines).toEqual([
      'pulling node:20: layer aaa already here (1/3)',
      'pulling node:20: downloaded 74.5 MB of 150.0 MB', // at 5 s
      'pulling node:20: downloaded 149.5 MB of 150.0 MB', // at 10 s
      'pulling node:20: layer bbb done (2/3)',
      'pulling node:20: layer ccc done (3/3)',
      'pulled node:20 in 12.3 s, 150.0 MB of 150.0 MB (sha256:abc)',
    ]);
  });
});
