// Command-line option parsing shared by the subcommands (node:util parseArgs, with help).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface ParsedCommand<V> {
  values: V;
  positionals: string[];
}

/**
 * Parses `argv` for one subcommand. Prints `usage` and returns null on `--help`; throws
 * a UsageError with a one-line message and the usage on an unknown or malformed option.
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
    const command = /^Usage: kiln (\S+)/.exec(usage)?.[1] ?? 'kiln';
    throw new UsageError(`${command}: ${oneLine(error instanceof Error ? error.message : String(error))}`, usage);
  }
}

/** Node's parseArgs message, lower-case and without its advice (`To specify a positional argument…`). */
function oneLine(message: string): string {
  const line = message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '').replace(/\.$/, '');
  return line.charAt(0).toLowerCase() + line.slice(1);
}

/** A mistake in the command line: exit 2, with the command's usage when it is given. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly usage?: string) {
    super(message);
  }
}

/** `NAME=VALUE` flags (`--env`, `--input`) as a mapping; throws UsageError (with `usage`) for one without a name. */
export function parsePairs(flag: string, pairs: readonly string[] | undefined, usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} takes NAME=VALUE, got "${pair}"`, usage);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
