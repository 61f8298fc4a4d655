// Matrix expansion: one job per combination of the axes' values, named `test (node=18, os=linux)`,
// with GitHub Actions' `exclude` (drop matching combinations) and `include` (add variables to
// matching combinations of the axes, or add a combination of its own).

export type MatrixValues = Record<string, string>;

/** A `matrix:` as written: axes of values, and the optional `include` / `exclude` lists of combinations. */
export interface MatrixInput {
  include?: ReadonlyArray<Readonly<Record<string, unknown>>>;
  exclude?: ReadonlyArray<Readonly<Record<string, unknown>>>;
  [axis: string]: readonly unknown[] | undefined;
}

const RESERVED = new Set(['include', 'exclude']);

/** The axes of a matrix (every key but `include` and `exclude`), lists only. */
export function matrixAxes(matrix: Readonly<Record<string, unknown>>): Record<string, readonly unknown[]> {
  return Object.fromEntries(Object.entries(matrix).filter(([axis, v]) => !RESERVED.has(axis) && Array.isArray(v))) as Record<string, readonly unknown[]>;
}

/** At most how many jobs a matrix makes (the product of its axes plus its includes), without making them. */
export function matrixSize(matrix: Readonly<Record<string, unknown>>): number {
  const axes = Object.values(matrixAxes(matrix));
  const product = axes.length === 0 ? 0 : axes.reduce((size, values) => size * values.length, 1);
  return product + (Array.isArray(matrix.include) ? matrix.include.length : 0);
}

/**
 * Every combination, axes in the order written, values stringified. `exclude` removes each
 * combination that has all of an entry's values. Then each `include` entry is merged into every
 * combination whose original axes it does not contradict (its other variables are added, and may
 * replace ones an earlier include added); an entry that fits none becomes a combination of its own,
 * after the others. A matrix of `include` alone is one combination per entry.
 */
export function expandMatrix(matrix: Readonly<Record<string, unknown>>): MatrixValues[] {
  const axes = matrixAxes(matrix);
  let combos: MatrixValues[] = Object.keys(axes).length === 0 ? [] : [{}];
  for (const [axis, values] of Object.entries(axes)) {
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [axis]: String(value) })));
  }
  const exclude = entries(matrix.exclude);
  combos = combos.filter((combo) => !exclude.some((entry) => Object.entries(entry).every(([k, v]) => combo[k] === v)));
  // Includes merge into the product's combinations only, never into one an include added.
  const original = combos.map((combo) => ({ ...combo }));
  const added: MatrixValues[] = [];
  for (const entry of entries(matrix.include)) {
    let merged = false;
    combos.forEach((combo, i) => {
      if (!Object.entries(entry).every(([k, v]) => !(k in axes) || original[i]![k] === v)) return;
      Object.assign(combo, entry);
      merged = true;
    });
    if (!merged) added.push({ ...entry });
  }
  combos.push(...added);
  return combos;
}

function entries(list: unknown): MatrixValues[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !Array.isArray(e))
    .map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)])));
}

export function matrixJobName(key: string, values: MatrixValues | null): string {
  if (values === null) return key;
  return `${key} (${Object.entries(values).map(([axis, value]) => `${axis}=${value}`).join(', ')})`;
}

/** Whether a combination has, for every axis of a `when.matrix`, one of the values listed. */
export function matrixMatches(want: Readonly<Record<string, readonly string[]>>, values: MatrixValues | null): boolean {
  return Object.entries(want).every(([axis, allowed]) => values !== null && axis in values && allowed.includes(values[axis]!));
}
