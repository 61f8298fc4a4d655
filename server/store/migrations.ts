// The schema as numbered migrations: entry i takes `PRAGMA user_version` from i to i + 1.
// Never edit a migration that has shipped; append a new one. Times are INTEGER ms since epoch.

const STATUS_CHECK = `CHECK (status IN ('queued','blocked','running','success','failed','cancelled','skipped','error'))`;

const V1 = `
CREATE TABLE sequences (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO sequences (name, value) VALUES ('lease_token', 0);

CREATE TABLE repos (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  path            TEXT,
  url             TEXT,
  default_branch  TEXT NOT NULL DEFAULT 'main',
  last_run_number INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  CHECK ((path IS NULL) <> (url IS NULL))
) STRICT;

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  repo_id     INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  number      INTEGER NOT NULL,
  status      TEXT NOT NULL ${STATUS_CHECK},
  event       TEXT NOT NULL CHECK (event IN ('push','tag','cron','manual','api')),
  ref         TEXT,
  branch      TEXT,
  tag         TEXT,
  sha         TEXT NOT NULL,
  message     TEXT,
  plan        TEXT,
  error       TEXT,
  env         TEXT NOT NULL DEFAULT '{}',
  changed_paths TEXT,
  rerun_of    INTEGER,
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  UNIQUE (repo_id, number)
) STRICT;
CREATE INDEX runs_by_branch ON runs (repo_id, branch, number);

CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx           INTEGER NOT NULL,
  name          TEXT NOT NULL,
  status        TEXT NOT NULL ${STATUS_CHECK},
  needs         TEXT NOT NULL DEFAULT '[]',
  plan          TEXT NOT NULL,
  runs_on       TEXT NOT NULL DEFAULT '[]',
  concurrency   TEXT,
  allow_failure INTEGER NOT NULL DEFAULT 0,
  approval      INTEGER NOT NULL DEFAULT 0,
  agent         TEXT,
  attempt       INTEGER NOT NULL DEFAULT 0,
  retries_left  INTEGER NOT NULL DEFAULT 0,
  exit_code     INTEGER,
  reason        TEXT,
  queued_at     INTEGER NOT NULL,
  ready_at      INTEGER,
  started_at    INTEGER,
  finished_at   INTEGER,
  UNIQUE (run_id, name)
) STRICT;
CREATE INDEX jobs_ready ON jobs (ready_at, id) WHERE status = 'queued' AND ready_at IS NOT NULL;
CREATE INDEX jobs_running_groups ON jobs (concurrency) WHERE status = 'running';
CREATE INDEX jobs_open ON jobs (status) WHERE status IN ('queued','blocked','running');

CREATE TABLE steps (
  job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  idx         INTEGER NOT NULL,
  name        TEXT NOT NULL,
  status      TEXT NOT NULL ${STATUS_CHECK},
  exit_code   INTEGER,
  started_at  INTEGER,
  finished_at INTEGER,
  PRIMARY KEY (job_id, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE log_chunks (
  job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  attempt    INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  data       TEXT NOT NULL,
  meta       TEXT NOT NULL DEFAULT '[]',
  lines      INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, attempt, seq)
) STRICT;
CREATE INDEX log_chunks_sizes ON log_chunks (job_id, attempt, bytes);

CREATE TABLE agents (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  labels       TEXT NOT NULL DEFAULT '[]',
  pool         TEXT,
  capacity     INTEGER NOT NULL DEFAULT 1,
  status       TEXT NOT NULL CHECK (status IN ('idle','busy','draining','offline')),
  protocol     INTEGER NOT NULL,
  version      TEXT,
  connected_at INTEGER,
  last_seen_at INTEGER,
  created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE leases (
  job_id      INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
  agent_id    INTEGER NOT NULL REFERENCES agents(id),
  token       INTEGER NOT NULL UNIQUE,
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX leases_by_expiry ON leases (expires_at);
CREATE INDEX leases_by_agent ON leases (agent_id);

CREATE TABLE api_tokens (
  id         INTEGER PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('admin','agent','user')),
  name       TEXT NOT NULL UNIQUE,
  hash       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE secrets (
  repo_id    INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repo_id, name)
) STRICT, WITHOUT ROWID;
`;

// Lease tokens become 128 random bits (base64url text) instead of a counter anyone could
// guess. Leases alive at the upgrade get fresh tokens: their agents speak protocol 1, which
// the server refuses, so those leases can only expire and be retried.
const V2 = `
CREATE TABLE leases_v2 (
  job_id      INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
  agent_id    INTEGER NOT NULL REFERENCES agents(id),
  token       TEXT NOT NULL UNIQUE,
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) STRICT;
INSERT INTO leases_v2 (job_id, agent_id, token, acquired_at, expires_at)
  SELECT job_id, agent_id, lower(hex(randomblob(16))), acquired_at, expires_at FROM leases;
DROP TABLE leases;
ALTER TABLE leases_v2 RENAME TO leases;
CREATE INDEX leases_by_expiry ON leases (expires_at);
CREATE INDEX leases_by_agent ON leases (agent_id);
DELETE FROM sequences WHERE name = 'lease_token';
`;

// The log store owns line numbering: each chunk keeps its first line, and one counter per
// (job, attempt) holds the lines, bytes and last seq stored, so an append never sums over
// earlier chunks. The counter also keeps the lease token of the attempt (written at claim),
// so a finished job's late lines are taken only from the agent that ran it. Backfill: the
// numbering the window sum gave (chunks in seq order); live leases give their tokens.
const V3 = `
ALTER TABLE log_chunks ADD COLUMN first_line INTEGER NOT NULL DEFAULT 0;
UPDATE log_chunks SET first_line = numbered.first_line
  FROM (SELECT job_id, attempt, seq,
          SUM(lines) OVER (PARTITION BY job_id, attempt ORDER BY seq ROWS UNBOUNDED PRECEDING) - lines AS first_line
        FROM log_chunks) AS numbered
  WHERE numbered.job_id = log_chunks.job_id AND numbered.attempt = log_chunks.attempt AND numbered.seq = log_chunks.seq;
DROP INDEX log_chunks_sizes;
CREATE INDEX log_chunks_by_line ON log_chunks (job_id, attempt, first_line);

CREATE TABLE log_counters (
  job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  lines       INTEGER NOT NULL DEFAULT 0,
  bytes       INTEGER NOT NULL DEFAULT 0,
  last_seq    INTEGER NOT NULL DEFAULT -1,
  lease_token TEXT,
  PRIMARY KEY (job_id, attempt)
) STRICT, WITHOUT ROWID;
INSERT INTO log_counters (job_id, attempt, lines, bytes, last_seq)
  SELECT job_id, attempt, SUM(lines), SUM(bytes), MAX(seq) FROM log_chunks GROUP BY job_id, attempt;
INSERT INTO log_counters (job_id, attempt, lease_token)
  SELECT l.job_id, j.attempt, l.token FROM leases l JOIN jobs j ON j.id = l.job_id WHERE true
  ON CONFLICT (job_id, attempt) DO UPDATE SET lease_token = excluded.lease_token;
`;

// Secrets are sealed at rest (server/secret-box.ts). SQL cannot encrypt, so the rows kept in
// clear are marked `sealed = 0` here, and the server seals them at its next start, once it
// has the key (SecretStore.unlock). key_check holds a value sealed with the key in use.
const V4 = `
ALTER TABLE secrets ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1));
CREATE TABLE key_check (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  sealed TEXT NOT NULL
) STRICT;
`;

// Remote repos' settings: the poll interval, the webhook secret, the credentials kiln fetches
// with and the forge it reports statuses to; and how their last sync went. The secret, the credentials and the forge's token
// are sealed (their *_kind and the forge's kind and API URL are not secret, and say what is set).
const V5 = `
ALTER TABLE repos ADD COLUMN poll_ms INTEGER;
ALTER TABLE repos ADD COLUMN webhook_secret TEXT;
ALTER TABLE repos ADD COLUMN webhook_insecure INTEGER NOT NULL DEFAULT 0 CHECK (webhook_insecure IN (0, 1));
ALTER TABLE repos ADD COLUMN credentials_kind TEXT CHECK (credentials_kind IN ('token', 'ssh_key'));
ALTER TABLE repos ADD COLUMN credentials TEXT;
ALTER TABLE repos ADD COLUMN forge_kind TEXT CHECK (forge_kind IN ('github', 'gitlab', 'gitea', 'bitbucket'));
ALTER TABLE repos ADD COLUMN forge_api_url TEXT;
ALTER TABLE repos ADD COLUMN forge_token TEXT;
ALTER TABLE repos ADD COLUMN synced_at INTEGER;
ALTER TABLE repos ADD COLUMN sync_error TEXT;
ALTER TABLE repos ADD COLUMN sync_error_at INTEGER;
`;

// Webhook deliveries, recorded as they arrive and deduplicated by the forge's delivery id (a
// redelivery is the same id); deliveries without one (older GitLab) are kept but not matched.
const V6 = `
CREATE TABLE hook_deliveries (
  id          INTEGER PRIMARY KEY,
  repo_id     INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  forge       TEXT NOT NULL,
  event       TEXT NOT NULL,
  delivery_id TEXT,
  received_at INTEGER NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('accepted', 'done', 'ignored', 'failed')),
  result      TEXT,
  run_ids     TEXT NOT NULL DEFAULT '[]',
  UNIQUE (repo_id, forge, delivery_id)
) STRICT;
CREATE INDEX hook_deliveries_by_repo ON hook_deliveries (repo_id, id);
`;

// Commit statuses for forges go through an outbox: written with the run's change, sent in
// order per run, retried with back-off while the forge fails, so a forge that is down, or a
// server restart, loses none.
const V7 = `
CREATE TABLE status_outbox (
  id              INTEGER PRIMARY KEY,
  repo_id         INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  sha             TEXT NOT NULL,
  status          TEXT NOT NULL,
  context         TEXT NOT NULL,
  target_url      TEXT NOT NULL,
  description     TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  failed_at       INTEGER,
  sent_at         INTEGER
) STRICT;
CREATE INDEX status_outbox_unsent ON status_outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX status_outbox_by_run ON status_outbox (run_id, id);
`;

// Pull-request runs: a new event (the CHECK of runs.event is widened, which SQLite can only do
// by rebuilding the table; migrate() runs with foreign keys off and checks them after, so jobs
// and statuses keep their runs) and what each such run was made for.
const V8 = `
CREATE TABLE runs_v8 (
  id          INTEGER PRIMARY KEY,
  repo_id     INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  number      INTEGER NOT NULL,
  status      TEXT NOT NULL ${STATUS_CHECK},
  event       TEXT NOT NULL CHECK (event IN ('push','tag','pull_request','cron','manual','api')),
  ref         TEXT,
  branch      TEXT,
  tag         TEXT,
  sha         TEXT NOT NULL,
  message     TEXT,
  plan        TEXT,
  error       TEXT,
  env         TEXT NOT NULL DEFAULT '{}',
  changed_paths TEXT,
  rerun_of    INTEGER,
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  pr_number   INTEGER,
  pr_source_branch TEXT,
  pr_target_branch TEXT,
  pr_fork     INTEGER CHECK (pr_fork IN (0, 1)),
  UNIQUE (repo_id, number)
) STRICT;
INSERT INTO runs_v8 (id, repo_id, number, status, event, ref, branch, tag, sha, message, plan, error, env, changed_paths, rerun_of, created_at, started_at, finished_at)
  SELECT id, repo_id, number, status, event, ref, branch, tag, sha, message, plan, error, env, changed_paths, rerun_of, created_at, started_at, finished_at FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v8 RENAME TO runs;
CREATE INDEX runs_by_branch ON runs (repo_id, branch, number);
`;

// Superseded runs (GitLab's "auto-cancel redundant pipelines"): a repo setting, on by default;
// why a run was cancelled ("superseded by run #8"); and the open runs of a repo found without
// reading its history, for the question every new push run asks.
const V9 = `
ALTER TABLE repos ADD COLUMN cancel_superseded INTEGER NOT NULL DEFAULT 1 CHECK (cancel_superseded IN (0, 1));
ALTER TABLE runs ADD COLUMN cancel_reason TEXT;
CREATE INDEX runs_open ON runs (repo_id, number) WHERE status IN ('queued','blocked','running');
`;

// Secret scopes (issue 11): a secret may be limited to branches (globs), events and
// environments (globs), each a JSON array, NULL for any; and secrets at the server level,
// for every repo, which a repo's own secret of the same name replaces. Values sealed as the
// repo's are, for the context `server-secret:<name>`.
const V10 = `
ALTER TABLE secrets ADD COLUMN branches TEXT;
ALTER TABLE secrets ADD COLUMN events TEXT;
ALTER TABLE secrets ADD COLUMN environments TEXT;
CREATE TABLE server_secrets (
  name         TEXT PRIMARY KEY,
  value        TEXT NOT NULL,
  branches     TEXT,
  events       TEXT,
  environments TEXT,
  updated_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`;

// Artifacts and caches (issue 11). Their archives are files named by sha256 under
// <data>/artifacts and <data>/caches; a row points at one, and several rows may share it.
// An artifact belongs to its job (one per name, the latest attempt's); a cache entry to its
// repo and trust scope: '' for protected branches (read by every run of the repo), else
// 'branch:<name>', 'pr:<number>' or 'tag:<name>' (read by that scope only).
const V11 = `
CREATE TABLE artifacts (
  id          INTEGER PRIMARY KEY,
  job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  name        TEXT NOT NULL,
  size        INTEGER NOT NULL,
  sha256      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  UNIQUE (job_id, name)
) STRICT;
CREATE INDEX artifacts_by_run ON artifacts (run_id);
CREATE INDEX artifacts_by_digest ON artifacts (sha256);
CREATE INDEX artifacts_expiry ON artifacts (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE caches (
  id           INTEGER PRIMARY KEY,
  repo_id      INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  scope        TEXT NOT NULL,
  key          TEXT NOT NULL,
  size         INTEGER NOT NULL,
  sha256       TEXT NOT NULL,
  job_id       INTEGER,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  UNIQUE (repo_id, scope, key)
) STRICT;
CREATE INDEX caches_lru ON caches (last_used_at);
CREATE INDEX caches_by_digest ON caches (sha256);
`;

// Attempts inside a run (issue 12): re-running a run, its failed jobs or one job adds attempt
// N + 1 to the same run. `runs.attempt` is the current one and `jobs.run_attempt` the one a job
// last ran in. What the earlier attempts were is kept when the next one starts: a row per
// attempt in run_attempts (written from the first re-run on: a run never re-run has none, its
// attempt 1 is the run itself), and each reset job's outcome in job_attempts, under the run
// attempt it belonged to, with `attempt` the job's own attempt (its log) it ended on.
const V12 = `
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN run_attempt INTEGER NOT NULL DEFAULT 1;
CREATE TABLE run_attempts (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  status      TEXT ${STATUS_CHECK.replace('CHECK (status', 'CHECK (status IS NULL OR status')},
  jobs        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  PRIMARY KEY (run_id, attempt)
) STRICT, WITHOUT ROWID;
CREATE TABLE job_attempts (
  job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  run_attempt INTEGER NOT NULL,
  attempt     INTEGER NOT NULL,
  status      TEXT NOT NULL ${STATUS_CHECK},
  exit_code   INTEGER,
  reason      TEXT,
  agent       TEXT,
  started_at  INTEGER,
  finished_at INTEGER,
  steps       TEXT NOT NULL,
  PRIMARY KEY (job_id, run_attempt)
) STRICT, WITHOUT ROWID;
`;

/** Typed build parameters: a run's input values, as JSON (`{}` for runs before, and for none). */
const V13 = `
ALTER TABLE runs ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}';
`;

// Retention (issue 13): the jobs whose log lines the retention sweeper removed, so the log
// route can answer 410 with when and under which policy instead of an empty log.
const V_RETENTION = `
CREATE TABLE removed_logs (
  job_id     INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
  removed_at INTEGER NOT NULL,
  policy     TEXT NOT NULL
) STRICT;
`;


// The audit log (issue 13): one row per changing request, refusals included. Append-only
// through the code (server/audit/store.ts has no update); old rows leave by the retention sweep.
const V_AUDIT = `
CREATE TABLE audit (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  address    TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT NOT NULL,
  outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed', 'error')),
  status     INTEGER NOT NULL,
  detail     TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_at ON audit (at);
CREATE INDEX audit_by_actor ON audit (actor, id);
CREATE INDEX audit_by_action ON audit (action, id);
`;


// Users, roles, user tokens and dashboard sessions (issue 13). Passwords are scrypt hashes,
// tokens and session ids only their SHA-256. Who approved a job, and who started a run.
const V_AUTH = `
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email         TEXT,
  password      TEXT,
  admin         INTEGER NOT NULL DEFAULT 0,
  groups        TEXT NOT NULL DEFAULT '[]',
  source        TEXT NOT NULL DEFAULT 'local',
  subject       TEXT,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  last_login_at INTEGER
) STRICT;
CREATE UNIQUE INDEX users_by_subject ON users (source, subject) WHERE subject IS NOT NULL;
CREATE TABLE user_roles (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  repo    TEXT NOT NULL,
  role    TEXT NOT NULL CHECK (role IN ('viewer', 'developer', 'maintainer', 'admin')),
  PRIMARY KEY (user_id, repo)
) STRICT;
CREATE TABLE user_tokens (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  scope        TEXT NOT NULL CHECK (scope IN ('read', 'run', 'admin')),
  repos        TEXT,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  UNIQUE (user_id, name)
) STRICT;
CREATE TABLE sessions (
  hash       TEXT PRIMARY KEY,
  user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  csrf       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
ALTER TABLE jobs ADD COLUMN approved_by TEXT;
ALTER TABLE jobs ADD COLUMN approved_at INTEGER;
ALTER TABLE runs ADD COLUMN triggered_by TEXT;
`;

// Notifications (issue 13): a repo's own `notify:` rules (kiln.yml), and the outbox of
// deliveries (server/notify/): written with the run's change, sent with retries and back-off.
// `dedupe` makes an event enqueue once per rule however often the run is published.
const V_NOTIFY = `
ALTER TABLE repos ADD COLUMN notify TEXT NOT NULL DEFAULT '[]';
CREATE TABLE notify_outbox (
  id              INTEGER PRIMARY KEY,
  repo_id         INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  run_id          INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  dedupe          TEXT NOT NULL UNIQUE,
  event           TEXT NOT NULL,
  target          TEXT NOT NULL,
  payload         TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  sent_at         INTEGER,
  failed_at       INTEGER,
  last_error      TEXT
) STRICT;
CREATE INDEX notify_outbox_due ON notify_outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX notify_outbox_by_repo ON notify_outbox (repo_id, id);
`;

// The cost view (issue 13): each connection of an agent as a span (connected → disconnected,
// open while connected), and the time indexes that bound its reads to the days asked for.
const V_USAGE = `
CREATE TABLE agent_spans (
  id              INTEGER PRIMARY KEY,
  agent           TEXT NOT NULL,
  pool            TEXT,
  connected_at    INTEGER NOT NULL,
  disconnected_at INTEGER
) STRICT;
CREATE INDEX agent_spans_open ON agent_spans (agent) WHERE disconnected_at IS NULL;
CREATE INDEX agent_spans_by_end ON agent_spans (disconnected_at);
CREATE INDEX agent_spans_by_start ON agent_spans (connected_at);
CREATE INDEX jobs_by_started ON jobs (started_at) WHERE started_at IS NOT NULL;
CREATE INDEX jobs_by_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX job_attempts_by_finished ON job_attempts (finished_at) WHERE finished_at IS NOT NULL;
`;

// Pool changes (issue 13): the pools kiln.yml had at the last start, each with its settings as
// JSON, so that the next start can tell what changed and record it in the audit log.
const V_POOLS = `
CREATE TABLE pool_settings (
  pool       TEXT PRIMARY KEY,
  settings   TEXT NOT NULL,
  changed_at INTEGER NOT NULL
) STRICT;
`;

export const MIGRATIONS: readonly string[] = [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13, V_RETENTION, V_AUDIT, V_AUTH, V_NOTIFY, V_USAGE, V_POOLS];
