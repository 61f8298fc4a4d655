// Matrix expansion: one job per combination of the axes' values, named `test (node=18, os=linux)`.

export type MatrixValues = Record<string, string>;

/** How many jobs a matrix makes, without making them. */
export function matrixSize(matrix: Readonly<Record<string, readonly unknown[]>>): number {
  return Object.values(matrix).reduce((size, values) => size * values.length, 1);
}

/** Every combination, axes in the order written, values stringified. */
export function expandMatrix(matrix: Readonly<Record<string, readonly unknown[]>>): MatrixValues[] {
  let combos: MatrixValues[] = [{}];
  for (const [axis, values] of Object.entries(matrix)) {
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [axis]: String(value) })));
  }
  return combos;
}

export function matrixJobName(key: string, values: MatrixValues | null): string {
  if (values === null) return key;
  return `${key} (${Object.entries(values).map(([axis, value]) => `${axis}=${value}`).join(', ')})`;
}
