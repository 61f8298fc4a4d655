// Helpers for pipeline tests: YAML written with indentation that reads well in a test.
import { validatePipeline } from '../../../shared/pipeline/index.js';
import type { Plan, Problem } from '../../../shared/pipeline/types.js';

/** Strips the common leading indentation so YAML can be written inline in tests. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

export function problemsOf(text: string): Problem[] {
  const result = validatePipeline(text);
  return result.ok ? [] : result.problems;
}

export function planOf(text: string): Plan {
  const result = validatePipeline(text);
  if (!result.ok) throw new Error(`expected a valid pipeline, got:\n${result.problems.map((p) => `${p.line}:${p.col}: ${p.message}`).join('\n')}`);
  return result.plan;
}
