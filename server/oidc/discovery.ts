// Finding the issuer: its discovery document, fetched at start and, while the issuer does not
// answer, again with back-off. Until then single sign-on is unavailable and says so; the
// server itself starts regardless.
//
//   start ──► attempt ──ok──► ready (current() is the configuration)
//               │ fails: log, wait 1 s, 2 s, 4 s … at most maxRetryMs
//               └──────────────► attempt …
import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { OidcConfig } from './identity.js';

/** Runs `task` after `delayMs`; returns what cancels it. */
export type Schedule = (task: () => void, delayMs: number) => () => void;

export interface OidcDiscoveryOptions {
  config: OidcConfig;
  logger: Logger;
  /** Default: an unref'd setTimeout (a retry never keeps the process alive). */
  schedule?: Schedule;
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** How long one discovery request may take (default 10 s). */
  timeoutMs?: number;
}

/** The issuer's configuration once it has answered; `start()` and `stop()` as every service. */
export interface OidcDiscovery {
  /** The discovered configuration, or null while the issuer has not answered. */
  current(): client.Configuration | null;
  /** Makes the first attempt (retries follow on their own); resolves with whether it succeeded. */
  start(): Promise<boolean>;
  stop(): void;
}

const defaultSchedule: Schedule = (task, delayMs) => {
  const timer = setTimeout(task, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

export function createOidcDiscovery(options: OidcDiscoveryOptions): OidcDiscovery {
  const { config, logger, schedule = defaultSchedule, firstRetryMs = 1000, maxRetryMs = 60_000, timeoutMs = 10_000 } = options;
  const log = logger.child({ issuer: config.issuer });
  let found: client.Configuration | null = null;
  let failures = 0;
  let cancel: (() => void) | null = null;
  let stopped = false;

  const attempt = async (): Promise<boolean> => {
    cancel = null;
    try {
      const issuer = new URL(config.issuer);
      found = await client.discovery(issuer, config.clientId, { client_secret: config.clientSecret }, client.ClientSecretBasic(config.clientSecret), {
        execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
        timeout: Math.ceil(timeoutMs / 1000),
      });
      log.info({ afterFailures: failures }, 'oidc issuer discovered, single sign-on available');
      return true;
    } catch (error) {
      const retryInMs = Math.min(maxRetryMs, firstRetryMs * 2 ** failures);
      failures += 1;
      log.warn({ err: describe(error), retryInMs }, 'oidc issuer unreachable, single sign-on unavailable until it answers');
      if (!stopped) cancel = schedule(() => void attempt(), retryInMs);
      return false;
    }
  };

  return {
    current: () => found,
    start: () => attempt(),
    stop() {
      stopped = true;
      cancel?.();
      cancel = null;
    },
  };
}

/** An error's message with its cause (fetch failures hide ECONNREFUSED there). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
