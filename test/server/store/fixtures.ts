// Test fixtures for the store: real SQLite files in temp folders, a hand-driven clock, small plans.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Plan, PlannedJob } from '../../../shared/pipeline/types.js';
import type { LogLine } from '../../../shared/protocol/messages.js';
import { openDatabase, type NewRun, type Store } from '../../../server/store/index.js';
import { createSecretBox, type SecretBox } from '../../../server/secret-box.js';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

/** A clock the test moves by hand. */
export function fakeClock(start = T0) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => (now += ms),
  };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

/** A fresh folder removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-store-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A secret key of its own (random), as the server loads from <data>/secret.key. */
export function testSecretBox(): SecretBox {
  return createSecretBox(randomBytes(32), 'test key');
}

/** A Store on a new database file, unlocked with a key of its own, closed after the test. */
export function tempStore(clock = fakeClock()): { store: Store; file: string; clock: ReturnType<typeof fakeClock> } {
  const file = join(tempDir(), 'kiln.db');
  const store = trackStore(openDatabase(file, { clock }));
  store.sealing.unlock(testSecretBox());
  return { store, file, clock };
}

export function trackStore(store: Store): Store {
  cleanups.unshift(() => store.close());
  return store;
}

export function plannedJob(name: string, over: Partial<PlannedJob> = {}): PlannedJob {
  return {
    name, key: name, matrix: null, needs: [], runsOn: [], image: null, pull: 'if-not-present', user: null,
    services: [], docker: null, env: {}, secrets: [], cache: null, artifacts: null, retry: 0, timeoutMs: null,
    allowFailure: false, when: null, environment: null, approval: false, concurrency: null,
    steps: [
      { name: 'build', run: 'make', shell: 'sh -e', env: {}, timeoutMs: null, continueOnError: false, when: null },
      { name: 'test', run: 'make test', shell: 'sh -e', env: {}, timeoutMs: null, continueOnError: false, when: null },
    ],
    ...over,
  };
}

export function plan(...jobs: PlannedJob[]): Plan {
  return {
    name: null,
    triggers: { push: { branches: null, paths: null }, tags: null, cron: [], manual: true },
    jobs,
    stages: [jobs.map((j) => j.name)],
  };
}

export function newRun(repoId: number, over: Partial<NewRun> = {}): NewRun {
  return {
    repoId, event: 'push', ref: 'refs/heads/main', branch: 'main', tag: null,
    sha: 'a'.repeat(40), message: 'a commit', plan: plan(plannedJob('build')), ...over,
  };
}

/** A store with one repo and one registered agent per label set given. */
export function seeded(agentLabels: string[][] = [['linux']]) {
  const ctx = tempStore();
  const repo = ctx.store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const agents = agentLabels.map((labels, i) =>
    ctx.store.agents.registerAgent({ name: `agent-${i + 1}`, labels, pool: null, capacity: 1, protocol: 1, version: null }),
  );
  return { ...ctx, repo, agents };
}

/** Log lines from text ("a\nb\n" → two stdout lines at T0, outside a step). */
export function textLines(text: string, over: Partial<LogLine> = {}): LogLine[] {
  if (text === '') return [];
  return text.split('\n').slice(0, text.endsWith('\n') ? -1 : undefined)
    .map((line) => ({ t: T0, stream: 'stdout' as const, step: null, text: line, ...over }));
}
