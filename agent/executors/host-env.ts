// The agent's variables that host jobs see: a fixed allowlist (PATH, HOME, locale, proxies),
// the owner's `KILN_AGENT_ENV_PASSTHROUGH` names and globs, and never kiln's own variables.

const BASE_ENV_KEYS = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
];

export interface BaseEnvOptions {
  /** Names or globs (`*`, `?`) passed besides the allowlist (parsed by `parseEnvPassthrough`). */
  passthrough?: readonly string[];
  /** Values never passed, whatever the variable's name: the agent's token. */
  neverValues?: readonly string[];
}

/** kiln's own variables (its tokens and settings), which no job sees through the passthrough. */
export const isKilnVariable = (name: string) => /^KILN_/i.test(name);

/** The agent's variables that steps may see (PATH, HOME, locale, proxies, the passthrough), and no others. */
export function pickBaseEnv(source: Readonly<Record<string, string | undefined>>, options: BaseEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const never = new Set((options.neverValues ?? []).filter(Boolean));
  const extra = (options.passthrough ?? []).map(globToRegExp);
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || never.has(value) || never.has(value.trim())) continue;
    const passed = BASE_ENV_KEYS.includes(key) || (!isKilnVariable(key) && extra.some((re) => re.test(key)));
    if (passed) env[key] = value;
  }
  return env;
}

/** `SSL_*` → /^SSL_.*$/: `*` any characters, `?` one; case-sensitive, as variable names are. */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^$()|[\]{}\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}
