// `kiln schema`: prints the JSON Schema of pipeline.yml, for editors.
import { pipelineJsonSchema } from '../../shared/pipeline/index.js';
import { parseCommand } from './args.js';

const USAGE = `Usage: kiln schema

Prints the JSON Schema of pipeline.yml (the server also serves it at /schema/pipeline.json).`;

export async function main(argv: string[]): Promise<number> {
  if (!parseCommand(argv, {}, USAGE)) return 0;
  console.log(JSON.stringify(pipelineJsonSchema(), null, 2));
  return 0;
}
