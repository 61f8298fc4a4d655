// The store's public surface: open a database, get a Store, and the domain types it speaks.

export { openDatabase, openSqlite, migrate, type OpenOptions, type Sqlite } from './db.js';
export { createStore, type Store, type StoreOptions } from './store.js';
export { MIGRATIONS } from './migrations.js';
export { hashToken, type NewToken, type TokenStore } from './tokens.js';
export type { AgentHello, AgentStore } from './agents.js';
export type { Artifact, ArtifactStore, NewArtifact } from './artifacts.js';
export { unexpired } from './artifacts.js';
export { jobsAsOfAttempt, onlyAttempt, type AttemptStore } from './attempts.js';
export type { CancelledJob, JobChange, JobStore, ReadyJob } from './jobs.js';
export type { Claim, JobOutcome, LeaseStore, RequeueResult } from './leases.js';
export type { AppendResult, LogCounter, LogStore, LogText, NewLogLines, ReadLogOptions } from './logs.js';
export { cacheExists, type CacheEntry, type CacheHit, type CacheStore, type NewCacheEntry } from './caches.js';
export { shownAttempt } from './shown-attempt.js';
export { parseLines, type StoredLine } from './log-format.js';
export type { NewRepo, RepoStore } from './repos.js';
export type { ListRunsOptions, NewRun, RunStore } from './runs.js';
export { ANY_SCOPE } from './secrets.js';
export type { ResolvedSecret, SecretInfo, SecretScopes, SecretStore } from './secrets.js';
export type { Sealing } from './sealing.js';
export type { OutboxStatus, StatusOutbox } from './status-outbox.js';
export { describeTarget, type NewNotification, type NotificationStore, type NotificationView, type OutboxNotification } from './notifications.js';
export type { Delivery, DeliveryStatus, HookStore, NewDelivery } from './hooks.js';
export type { StepStore } from './steps.js';
export { agentSpansSweepable, type AgentSpan, type BusySpan, type StartedJob, type UsageStore } from './usage.js';
export { ALL_REPOS, ROLES, TOKEN_SCOPES, type NewUser, type Role, type StoredSession, type TokenScope, type User, type UserChanges, type UserStore, type UserToken } from './users.js';
export type { PoolSettingsStore, RecordedPool } from './pool-settings.js';
export * from './types.js';
