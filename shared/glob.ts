// Glob patterns for branches, tags and paths: `*` stays within a path segment, `**` crosses
// segments, `?` is one character, `{a,b}` alternatives, `[abc]` classes; a leading `!` excludes.

const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (re) return re;
  let out = '';
  let braces = 0;
  const pattern = glob.startsWith('./') ? glob.slice(2) : glob;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        const slashAfter = pattern[i + 2] === '/';
        // `**/` also matches no folder at all: `**/x` matches `x`.
        out += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else if (ch === '{') {
      braces++;
      out += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (ch === ',' && braces > 0) out += '|';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) out += '\\[';
      else {
        const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else out += ch.replace(/[.+^$()|\\\]]/g, '\\$&');
  }
  re = new RegExp(`^${out}$`);
  if (cache.size > 1000) cache.clear();
  cache.set(glob, re);
  return re;
}

/**
 * Whether `value` matches a list of globs: at least one positive glob matches (or there are
 * only negative ones) and no `!glob` matches.
 */
export function matchesGlobs(value: string, globs: readonly string[]): boolean {
  const positive = globs.filter((g) => !g.startsWith('!'));
  const negative = globs.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  if (negative.some((g) => globToRegExp(g).test(value))) return false;
  return positive.length === 0 || positive.some((g) => globToRegExp(g).test(value));
}

/** Whether any of `values` matches the globs (used for changed paths). */
export function anyMatchesGlobs(values: readonly string[], globs: readonly string[]): boolean {
  return values.some((value) => matchesGlobs(value, globs));
}
