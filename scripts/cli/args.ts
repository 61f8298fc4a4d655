// Command-line option parsing shared by the subcommands (node:util parseArgs, with help).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface ParsedCommand<V> {
  values: V;
  positionals: string[];
}

/**
 * Parses `argv` for one subcommand. Prints `usage` and returns null on `--help`; throws
 * a UsageError with a one-line message on unknown options.
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  usage: string,
): ParsedCommand<ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>['values']> | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return null;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** `NAME=VALUE` flags (`--env`, `--input`) as a mapping; throws UsageError for one without a name. */
export function parsePairs(flag: string, pairs: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} takes NAME=VALUE, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
