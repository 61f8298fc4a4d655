// Every example under pipelines/ must validate: they are what users copy first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatePipeline } from '../shared/pipeline/index.js';

const folder = join(import.meta.dirname, '../pipelines');
const files = readdirSync(folder).filter((f) => f.endsWith('.yml'));

describe('example pipelines', () => {
  it('cover the common stacks', () => {
    expect(files).toEqual(expect.arrayContaining(['node-library.yml', 'docker-image.yml', 'deploy-environments.yml', 'nightly.yml', 'monorepo.yml']));
  });

  it.each(files)('%s validates', (file) => {
    const result = validatePipeline(readFileSync(join(folder, file), 'utf8'));
    expect(result.problems).toEqual([]);
    expect(result.ok && result.plan.jobs.length).toBeGreaterThan(0);
  });
});
