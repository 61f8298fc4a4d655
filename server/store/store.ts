// The Store: every aggregate's functions over one connection, statements prepared once.

import type { Sqlite } from './db.js';
import { createAgentStore, type AgentStore } from './agents.js';
import { createArtifactStore, type ArtifactStore } from './artifacts.js';
import { createAttemptStore, type AttemptStore } from './attempts.js';
import { createJobEffects } from './job-effects.js';
import { createJobStore, type JobStore } from './jobs.js';
import { createLeaseStore, type LeaseStore } from './leases.js';
import { createLogStore, type LogStore } from './logs.js';
import { createCacheStore, type CacheStore } from './caches.js';
import { createRepoStore, type RepoStore } from './repos.js';
import { createRunStore, type RunStore } from './runs.js';
import { createRetentionStore, type RetentionStore } from './retention.js';
import { createSecretStore, type SecretStore } from './secrets.js';
import { createAuditStore, type AuditStore } from '../audit/store.js';
import { createSealing, type Sealing } from './sealing.js';
import { createHookStore, type HookStore } from './hooks.js';
import { createNotificationStore, type NotificationStore } from './notifications.js';
import { createStatusOutbox, type StatusOutbox } from './status-outbox.js';
import { createStepStore, type StepStore } from './steps.js';
import { createTokenStore, type TokenStore } from './tokens.js';
import { createUserStore, type UserStore } from './users.js';
import { createUsageStore, type UsageStore } from './usage.js';
import { createPoolSettingsStore, type PoolSettingsStore } from './pool-settings.js';
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
  readonly attempts: AttemptStore;
  readonly jobs: JobStore;
  readonly steps: StepStore;
  readonly logs: LogStore;
  readonly agents: AgentStore;
  readonly leases: LeaseStore;
  readonly tokens: TokenStore;
  /** Users, their roles, tokens and dashboard sessions. */
  readonly users: UserStore;
  readonly secrets: SecretStore;
  readonly hooks: HookStore;
  readonly artifacts: ArtifactStore;
  readonly statuses: StatusOutbox;
  /** The outbox of notifications (server/notify/). */
  readonly notifications: NotificationStore;
  readonly caches: CacheStore;
  readonly retention: RetentionStore;
  /** What the cost view reads: agents' connection spans, busy time, waits. */
  readonly usage: UsageStore;
  /** The pools kiln.yml had at the last start (for the audit log's pool.change). */
  readonly pools: PoolSettingsStore;
  /** The audit log (server/audit/store.ts): append-only. */
  readonly audit: AuditStore;
  /** Holds the secret key once the server unlocks it; secrets and repo credentials need it. */
  readonly sealing: Sealing;
  /**
   * Runs `work` in one IMMEDIATE transaction: the store calls it makes commit together, or not
   * at all when it throws. Their own transactions nest as savepoints. Why: a commit costs more
   * than the writes it carries (WAL frames, locks), and one agent message or one trigger
   * changes several aggregates; `work` must be synchronous. After `commitPerTurn`, the work
   * is a savepoint in the turn's transaction (all or nothing still), committed at the turn's end.
   */
  transaction<T>(work: () => T): T;
  /**
   * From now on, the writes of one event-loop turn commit together, in one transaction that
   * commits when the turn ends (setImmediate), instead of one commit per `transaction`. Each
   * `transaction` is still all or nothing (a savepoint in the turn's transaction). Why: under
   * load a commit cost as much as the writes it carried, and a burst of triggers or agent
   * frames arrives in one turn. What a caller shows outside the process must wait for the
   * commit: `afterCommit` for frames, `committed` for answers. `onFailure` hears a commit
   * that failed (rolled back): the caller's memory of the turn is wrong then.
   */
  commitPerTurn(onFailure: (error: unknown) => void): void;
  /** Runs `then` once the writes made so far are committed: now, when none wait for a commit. */
  afterCommit(then: () => void): void;
  /** Resolves once the writes made so far are committed; rejects when that commit failed. */
  committed(): Promise<void>;
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
  let perTurn = false;
  let onCommitFailure: (error: unknown) => void = () => {};
  let waiting: Array<(error: unknown) => void> | null = null; // a turn's transaction is open
  const commitTurn = () => {
    const callbacks = waiting ?? [];
    waiting = null;
    let failure: unknown = null;
    try {
      if (db.open && db.inTransaction) db.exec('COMMIT');
    } catch (error) {
      failure = error;
      if (db.inTransaction) db.exec('ROLLBACK');
    }
    for (const callback of callbacks) callback(failure);
    if (failure !== null) onCommitFailure(failure);
  };
  const afterCommit = (then: (error: unknown) => void) => {
    if (waiting) waiting.push(then);
    else then(null);
  };
  return {
    sealing,
    repos: createRepoStore(db, clock, sealing),
    runs: createRunStore(db, clock, effects),
    attempts: createAttemptStore(db, clock, effects),
    jobs: createJobStore(db, clock, effects),
    steps: createStepStore(db),
    logs: createLogStore(db, clock),
    agents: createAgentStore(db, clock),
    leases: createLeaseStore(db, effects),
    tokens: createTokenStore(db, clock),
    users: createUserStore(db, clock),
    secrets: createSecretStore(db, clock, sealing),
    hooks: createHookStore(db, clock),
    artifacts: createArtifactStore(db, clock),
    audit: createAuditStore(db),
    pools: createPoolSettingsStore(db),
    statuses: createStatusOutbox(db, clock),
    notifications: createNotificationStore(db, clock),
    caches: createCacheStore(db, clock),
    retention: createRetentionStore(db),
    usage: createUsageStore(db),
    transaction: <T>(work: () => T): T => {
      if (db.inTransaction || !perTurn) return (db.inTransaction ? unit(work) : unit.immediate(work)) as T;
      db.exec('BEGIN IMMEDIATE');
      waiting = [];
      setImmediate(commitTurn);
      return unit(work) as T; // a savepoint: a throw undoes this work, not the turn's
    },
    commitPerTurn: (onFailure) => {
      perTurn = true;
      onCommitFailure = onFailure;
    },
    afterCommit: (then) => afterCommit((error) => error === null && then()),
    committed: () => new Promise<void>((resolve, reject) => afterCommit((error) => (error === null ? resolve() : reject(error)))),
    ping: () => {
      try {
        return ping.get() === 1;
      } catch {
        return false;
      }
    },
    close: () => {
      if (waiting) commitTurn();
      if (db.open) db.close();
    },
  };
}
