// The Store: every aggregate's functions over one connection, statements prepared once.

import type { Sqlite } from './db.js';
import { createAgentStore, type AgentStore } from './agents.js';
import { createJobEffects } from './job-effects.js';
import { createJobStore, type JobStore } from './jobs.js';
import { createLeaseStore, type LeaseStore } from './leases.js';
import { createLogStore, type LogStore } from './logs.js';
import { createRepoStore, type RepoStore } from './repos.js';
import { createRunStore, type RunStore } from './runs.js';
import { createSecretStore, type SecretStore } from './secrets.js';
import { createSealing, type Sealing } from './sealing.js';
import { createHookStore, type HookStore } from './hooks.js';
import { createStatusOutbox, type StatusOutbox } from './status-outbox.js';
import { createStepStore, type StepStore } from './steps.js';
import { createTokenStore, type TokenStore } from './tokens.js';
import type { Clock } from './types.js';

export interface StoreOptions {
  /** Stamps writes that take no explicit `now` (lease functions take `now`). Default: Date.now. */
  clock?: Clock;
}

/**
 * The server's only door to SQL. One Store per connection; better-sqlite3 is synchronous, so
 * every function returns when its transaction has committed.
 */
export interface Store {
  readonly repos: RepoStore;
  readonly runs: RunStore;
  readonly jobs: JobStore;
  readonly steps: StepStore;
  readonly logs: LogStore;
  readonly agents: AgentStore;
  readonly leases: LeaseStore;
  readonly tokens: TokenStore;
  readonly secrets: SecretStore;
  readonly hooks: HookStore;
  readonly statuses: StatusOutbox;
  /** Holds the secret key once the server unlocks it; secrets and repo credentials need it. */
  readonly sealing: Sealing;
  /**
   * Runs `work` in one IMMEDIATE transaction: the store calls it makes commit together, or not
   * at all when it throws. Their own transactions nest as savepoints. Why: a commit costs more
   * than the writes it carries (WAL frames, locks), and one agent message or one trigger
   * changes several aggregates; `work` must be synchronous.
   */
  transaction<T>(work: () => T): T;
  /** True when the database answers (for /healthz). */
  ping(): boolean;
  close(): void;
}

const systemClock: Clock = { now: () => Date.now() };

/** Builds a Store over an open, migrated connection (see openDatabase). */
export function createStore(db: Sqlite, { clock = systemClock }: StoreOptions = {}): Store {
  const effects = createJobEffects(db);
  const sealing = createSealing(db);
  const ping = db.prepare<[], number>('SELECT 1').pluck();
  const unit = db.transaction((work: () => unknown) => work());
  return {
    sealing,
    repos: createRepoStore(db, clock, sealing),
    runs: createRunStore(db, clock, effects),
    jobs: createJobStore(db, clock, effects),
    steps: createStepStore(db),
    logs: createLogStore(db, clock),
    agents: createAgentStore(db, clock),
    leases: createLeaseStore(db, effects),
    tokens: createTokenStore(db, clock),
    secrets: createSecretStore(db, clock, sealing),
    hooks: createHookStore(db, clock),
    statuses: createStatusOutbox(db, clock),
    transaction: <T>(work: () => T) => unit.immediate(work) as T,
    ping: () => {
      try {
        return ping.get() === 1;
      } catch {
        return false;
      }
    },
    close: () => {
      if (db.open) db.close();
    },
  };
}
