// `kiln validate [FILE]`: checks a pipeline.yml offline, with the messages the server gives.
import { readFile } from 'node:fs/promises';
import { formatProblem, validatePipeline } from '../../shared/pipeline/index.js';
import { parseCommand } from './args.js';

const USAGE = `Usage: kiln validate [FILE]

Checks FILE (default ./pipeline.yml) offline. Prints FILE:LINE:COL: message for every
problem and exits 1, or prints a one-line summary and exits 0.`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, {}, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length > 1) {
    console.error('kiln validate: give at most one file');
    return 2;
  }
  const file = parsed.positionals[0] ?? 'pipeline.yml';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(`kiln validate: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(code ?? error)}`);
    return 2;
  }
  const result = validatePipeline(text);
  if (!result.ok) {
    for (const problem of result.problems) console.log(formatProblem(file, problem));
    return 1;
  }
  const { jobs, stages } = result.plan;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  console.log(`${file}: valid — ${plural(jobs.length, 'job')} in ${plural(stages.length, 'stage')}: ${stages.map((s) => s.join(', ')).join(' → ')}`);
  return 0;
}
