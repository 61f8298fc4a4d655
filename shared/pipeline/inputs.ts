// Typed build parameters (`on.manual.inputs`): the declaration's checks beyond its types, the
// planned form, and a run's values: checked against the declaration, defaults filled in, seen by
// jobs as `KILN_INPUT_<NAME>` and `${{ inputs.NAME }}` (substituted as the server creates the run).
import { badInput } from '../errors.js';
import { INPUT_NAME, substituteInputs } from './expressions.js';
import type { RawProblem } from './lint.js';
import { suggest } from './suggest.js';
import type { InputType, InputValue, Plan, PlannedInput } from './types.js';

export { INPUT_NAME };
export const INPUT_TYPES = ['string', 'number', 'boolean', 'choice'] as const satisfies readonly InputType[];

/** What the schema lets through for one input (its own keys are typed there). */
export interface InputDeclaration {
  type?: InputType | undefined;
  description?: string | undefined;
  required?: boolean | undefined;
  default?: InputValue | undefined;
  options?: Array<string | number | boolean> | undefined;
}

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `dry-run` → `KILN_INPUT_DRY_RUN`. */
export function inputEnvName(name: string): string {
  return `KILN_INPUT_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The declared input names of a raw document (for the expression checks). */
export function declaredInputNames(on: unknown): string[] {
  const manual = isDict(on) ? on.manual : undefined;
  return isDict(manual) && isDict(manual.inputs) ? Object.keys(manual.inputs) : [];
}

/** What the types cannot see: options and defaults that disagree, two inputs with one variable name. */
export function lintInputs(on: unknown, problems: RawProblem[]): void {
  const manual = isDict(on) ? on.manual : undefined;
  if (!isDict(manual) || !isDict(manual.inputs)) return;
  const byEnv = new Map<string, string>();
  for (const [name, raw] of Object.entries(manual.inputs)) {
    const path = ['on', 'manual', 'inputs', name];
    const env = inputEnvName(name);
    const other = byEnv.get(env);
    if (other !== undefined) problems.push({ path, at: 'key', message: `inputs "${other}" and "${name}" would both be ${env}; rename one` });
    byEnv.set(env, name);
    if (!isDict(raw)) continue;
    const type = raw.type ?? 'string';
    const options = Array.isArray(raw.options) ? raw.options.map(String) : null;
    if (type === 'choice' && (options === null || options.length === 0)) {
      problems.push({ path, message: 'a choice input needs `options:`, a list of its values' });
    }
    if (type !== 'choice' && raw.options !== undefined) {
      problems.push({ path: [...path, 'options'], at: 'key', message: '`options` is only for `type: choice`' });
    }
    if (raw.default === undefined || typeof type !== 'string' || (type === 'choice' && !options?.length)) continue;
    const problem = valueProblem({ name, type: type as InputType, options: options ?? [] }, raw.default);
    if (problem !== null) problems.push({ path: [...path, 'default'], message: problem });
  }
}

export function planInputs(inputs: Record<string, InputDeclaration> | undefined): PlannedInput[] {
  return Object.entries(inputs ?? {}).map(([name, d]) => {
    const type = d.type ?? 'string';
    const options = type === 'choice' ? (d.options ?? []).map(String) : [];
    return {
      name, type, description: d.description ?? null, required: d.required ?? false,
      default: d.default === undefined ? null : coerce({ name, type, options }, d.default) ?? null, options,
    };
  });
}

/**
 * A run's input values: `given` checked against `declared`, defaults filled in. `given` values
 * may be text (a form, `--input k=v`) or JSON-typed (the API); an empty text is not given.
 * Throws `bad_input` with one line naming the input that is unknown, missing or wrong.
 */
export function resolveInputs(declared: readonly PlannedInput[], given: Readonly<Record<string, InputValue>>): Record<string, InputValue> {
  for (const name of Object.keys(given)) {
    if (declared.some((d) => d.name === name)) continue;
    if (declared.length === 0) throw badInput(`unknown input "${name}": the pipeline declares no inputs`);
    throw badInput(`unknown input "${name}"${suggest(name, declared.map((d) => d.name))}; the pipeline declares ${declared.map((d) => d.name).join(', ')}`);
  }
  const values: Record<string, InputValue> = {};
  for (const input of declared) {
    const value = given[input.name];
    if (value === undefined || value === '') {
      if (input.required) throw badInput(`input "${input.name}" is required${input.description ? ` (${input.description})` : ''}`);
      const fallback = defaultOf(input);
      if (fallback !== null) values[input.name] = fallback;
      continue;
    }
    const problem = valueProblem(input, value);
    if (problem !== null) throw badInput(`input "${input.name}": ${problem}`);
    values[input.name] = coerce(input, value)!;
  }
  return values;
}

/** The values of a run no one gave inputs to (push, tag, pull request, cron): the defaults. */
export function defaultInputs(declared: readonly PlannedInput[]): Record<string, InputValue> {
  const values: Record<string, InputValue> = {};
  for (const input of declared) {
    const value = defaultOf(input);
    if (value !== null) values[input.name] = value;
  }
  return values;
}

/** `KILN_INPUT_<NAME>` for every input with a value (one with none is unset, as an empty `${{ inputs.NAME }}`). */
export function inputEnv(values: Readonly<Record<string, InputValue>>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [inputEnvName(name), String(value)]));
}

/** The plan with `${{ inputs.NAME }}` replaced by the values in every string of every job. */
export function planWithInputs(plan: Plan, values: Readonly<Record<string, InputValue>>): Plan {
  const declared = plan.inputs ?? [];
  if (declared.length === 0) return plan;
  const text = Object.fromEntries(declared.map((d) => [d.name, d.name in values ? String(values[d.name]) : '']));
  return { ...plan, jobs: plan.jobs.map((job) => deepSubstitute(job, text)) };
}

function defaultOf(input: PlannedInput): InputValue | null {
  return input.default ?? (input.type === 'boolean' ? false : null);
}

type Typed = Pick<PlannedInput, 'name' | 'type' | 'options'>;

/** Why `value` does not fit the input ("must be one of …"), or null. */
function valueProblem(input: Typed, value: unknown): string | null {
  const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  if (typeof value === 'string' && value.includes('${{')) return 'a value cannot hold ${{';
  if (coerce(input, value) !== undefined) return null;
  switch (input.type) {
    case 'string': return `expected text, got ${shown}`;
    case 'number': return `expected a number, got ${shown}`;
    case 'boolean': return `expected true or false, got ${shown}`;
    case 'choice': return `expected one of ${input.options.join(', ')}, got ${shown}`;
  }
}

/** The value as the input's type, or undefined when it is not one. */
function coerce(input: Typed, value: unknown): InputValue | undefined {
  switch (input.type) {
    case 'string': return typeof value === 'string' ? value : undefined;
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': return value === true || value === 'true' ? true : value === false || value === 'false' ? false : undefined;
    case 'choice': {
      const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
      return text !== null && input.options.includes(text) ? text : undefined;
    }
  }
}

function deepSubstitute<T>(value: T, inputs: Readonly<Record<string, string>>): T {
  if (typeof value === 'string') return substituteInputs(value, inputs) as T;
  if (Array.isArray(value)) return value.map((v) => deepSubstitute(v, inputs)) as T;
  if (isDict(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepSubstitute(v, inputs)])) as T;
  return value;
}
