// The only expressions pipeline.yml has: `${{ matrix.X }}`, `${{ inputs.X }}`, `${{ env.X }}` and
// `${{ hashFiles('glob', …) }}`. They are substituted as text; nothing is ever evaluated as code.

export type Expression =
  | { kind: 'matrix'; name: string }
  | { kind: 'env'; name: string }
  | { kind: 'inputs'; name: string }
  | { kind: 'hashFiles'; globs: string[] };

export interface FoundExpression {
  index: number;   // offset of `${{` in the text
  source: string;  // the whole `${{ … }}`
  parsed: Expression | { kind: 'invalid'; reason: string };
}

const OPEN = '${{';
const CLOSE = '}}';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const HASH_FILES = /^hashFiles\(\s*((?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*)\s*\)$/;

/** Every `${{ … }}` in `text`, in order; an unclosed one is reported as invalid. */
export function findExpressions(text: string): FoundExpression[] {
  const found: FoundExpression[] = [];
  let from = 0;
  for (;;) {
    const index = text.indexOf(OPEN, from);
    if (index === -1) return found;
    const end = text.indexOf(CLOSE, index + OPEN.length);
    if (end === -1) {
      found.push({ index, source: text.slice(index), parsed: { kind: 'invalid', reason: 'an expression opened with ${{ is never closed with }}' } });
      return found;
    }
    const source = text.slice(index, end + CLOSE.length);
    found.push({ index, source, parsed: parseExpression(text.slice(index + OPEN.length, end).trim()) });
    from = end + CLOSE.length;
  }
}

export function parseExpression(body: string): Expression | { kind: 'invalid'; reason: string } {
  const dot = body.indexOf('.');
  if (dot > 0) {
    const scope = body.slice(0, dot);
    const name = body.slice(dot + 1);
    if ((scope === 'matrix' || scope === 'env') && NAME.test(name)) return { kind: scope, name };
    if (scope === 'inputs' && INPUT_NAME.test(name)) return { kind: scope, name };
    if (scope === 'secrets' && NAME.test(name)) {
      return { kind: 'invalid', reason: `secrets are not expressions: did you mean \`secrets: [${name}]\` on the job and \`$${name}\` in the step?` };
    }
  }
  const hash = HASH_FILES.exec(body);
  if (hash) {
    const globs = [...hash[1]!.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2] ?? '');
    return { kind: 'hashFiles', globs };
  }
  return {
    kind: 'invalid',
    reason: `unsupported expression "\${{ ${body} }}": only matrix.NAME, inputs.NAME, env.NAME and hashFiles('glob') are allowed`,
  };
}

/** Replaces `${{ matrix.X }}` with the job's matrix values; other expressions stay for the agent. */
export function substituteMatrix(text: string, matrix: Readonly<Record<string, string>>): string {
  if (!text.includes(OPEN)) return text;
  return replaceExpressions(text, (e) => (e.kind === 'matrix' && e.name in matrix ? matrix[e.name]! : null));
}

/** Replaces `${{ inputs.X }}` with the run's input values (the server does it as it creates the run). */
export function substituteInputs(text: string, inputs: Readonly<Record<string, string>>): string {
  if (!text.includes(OPEN)) return text;
  return replaceExpressions(text, (e) => (e.kind === 'inputs' && e.name in inputs ? inputs[e.name]! : null));
}

export interface RuntimeContext {
  env: Readonly<Record<string, string>>;
  hashFiles(globs: string[]): string;
}

/** Expands `${{ env.X }}` (empty when unset) and `${{ hashFiles(…) }}` at run time. */
export function expandRuntimeExpressions(text: string, context: RuntimeContext): string {
  if (!text.includes(OPEN)) return text;
  return replaceExpressions(text, (e) => {
    if (e.kind === 'env') return context.env[e.name] ?? '';
    if (e.kind === 'hashFiles') return context.hashFiles(e.globs);
    return null;
  });
}

function replaceExpressions(text: string, replace: (e: Expression) => string | null): string {
  let out = '';
  let from = 0;
  for (const found of findExpressions(text)) {
    const value = found.parsed.kind === 'invalid' ? null : replace(found.parsed);
    if (value === null) continue;
    out += text.slice(from, found.index) + value;
    from = found.index + found.source.length;
  }
  return out + text.slice(from);
}
