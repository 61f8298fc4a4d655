// The folder of kiln's package.json, found from a module's own file: the same answer whether the
// code runs from the TypeScript source, from tsc's dist/ or from the bundle in dist/bundle/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
