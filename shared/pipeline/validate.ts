// The four stages in one call: text → problems (all of them, in file order) or a Plan.
import type * as z from 'zod';
import { lintPipeline, type RawProblem } from './lint.js';
import { parsePipelineText, type ParsedPipeline, type PathSegment } from './parse.js';
import { planPipeline } from './plan.js';
import { JOB_KEYS, pipelineSchema, type PipelineInput } from './schema.js';
import { formatPath } from './paths.js';
import { suggest } from './suggest.js';
import { NOTIFY_KEYS } from './notify.js';
import type { Plan, Problem } from './types.js';

export { formatPath };

export type ValidationResult = { ok: true; plan: Plan; problems: [] } | { ok: false; problems: Problem[] };

export function validatePipeline(text: string): ValidationResult {
  const parsed = parsePipelineText(text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  const value = parsed.parsed.value;
  if (value === null || value === undefined) {
    return { ok: false, problems: [{ path: '', line: 1, col: 1, message: 'the file is empty; a pipeline needs `jobs:`' }] };
  }
  const doc = withoutExtensionKeys(value);
  const checked = pipelineSchema.safeParse(doc);
  const raw: RawProblem[] = checked.success ? [] : checked.error.issues.flatMap((issue) => schemaProblems(issue, doc));
  raw.push(...lintPipeline(doc));
  if (raw.length === 0 && checked.success) {
    return { ok: true, plan: planPipeline(checked.data as PipelineInput), problems: [] };
  }
  return { ok: false, problems: positioned(raw, parsed.parsed) };
}

/** Top-level `x-…` keys are free for YAML anchors (as in Compose files); nothing reads them. */
function withoutExtensionKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith('x-')));
}

const KNOWN_KEYS: Array<[RegExp, string[]]> = [
  [/^$/, ['name', 'on', 'env', 'defaults', 'environments', 'jobs', 'notify']],
  [/^environments\.[^.]+$/, ['approvers', 'separate_approver', 'protected']],
  [/^notify\.\d+$/, NOTIFY_KEYS],
  [/^on$/, ['push', 'tags', 'pull_request', 'cron', 'manual']],
  [/^on\.push$/, ['branches', 'paths']],
  [/^on\.pull_request$/, ['branches', 'paths']],
  [/^on\.cron\.\d+$/, ['schedule', 'branch', 'timezone']],
  [/^on\.manual$/, ['inputs']],
  [/^on\.manual\.inputs\.[^.]+$/, ['type', 'description', 'required', 'default', 'options']],
  [/^(defaults|jobs\.[^.]+)$/, JOB_KEYS],
  [/\.steps\.\d+$/, ['name', 'run', 'env', 'timeout', 'continue_on_error', 'shell', 'when']],
  [/\.when$/, ['branch', 'event', 'status', 'paths']],
  [/\.services\.[^.]+$/, ['image', 'env', 'command', 'entrypoint', 'ports']],
  [/\.cache$/, ['key', 'paths', 'restore_keys', 'policy']],
  [/\.artifacts$/, ['paths', 'expire', 'when', 'name']],
  [/\.needs\.\d+$/, ['job', 'artifacts']],
];

function schemaProblems(issue: z.core.$ZodIssue, doc: unknown): RawProblem[] {
  const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = KNOWN_KEYS.find(([pattern]) => pattern.test(path.join('.')))?.[1] ?? [];
    return issue.keys.map((key) => ({ path: [...path, key], at: 'key' as const, message: `unknown key "${key}"${suggest(key, known)}` }));
  }
  if (issue.code === 'invalid_key') {
    const key = String(path[path.length - 1]);
    return [{ path, at: 'key', message: `"${key}": ${issue.issues[0]?.message ?? issue.message}` }];
  }
  if (issue.code === 'invalid_union' && path.join('.') === 'on.manual') {
    // `manual: {inputs: …}`: the mapping's own problems, not "expected true, false or a mapping".
    const branch = issue.errors.find((issues) => issues.some((i) => i.path.length > 0 || i.code !== 'invalid_type'));
    if (branch) return branch.flatMap((i) => schemaProblems({ ...i, path: [...issue.path, ...i.path] }, doc));
  }
  if (issue.code === 'invalid_type' && valueAt(doc, path) === undefined && path.length > 0) {
    return [{ path: path.slice(0, -1), message: `missing required key "${String(path[path.length - 1])}"` }];
  }
  return [{ path, message: issue.message }];
}

function valueAt(doc: unknown, path: readonly PathSegment[]): unknown {
  let node = doc;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

function positioned(raw: RawProblem[], parsed: ParsedPipeline): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const p of raw) {
    const { line, col } = parsed.locate(p.path, p.at);
    const path = formatPath(p.path);
    const problem = { path, line, col, message: path ? `${path}: ${p.message}` : p.message };
    const id = `${line}:${col}:${problem.message}`;
    if (!seen.has(id)) problems.push(problem);
    seen.add(id);
  }
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}


/** `FILE:LINE:COL: message`, the form `kiln validate` and run logs print. */
export function formatProblem(file: string, problem: Problem): string {
  return `${file}:${problem.line}:${problem.col}: ${problem.message}`;
}
