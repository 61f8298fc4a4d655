import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../../shared/pipeline/index.js';

const examples = join(import.meta.dirname, '../../../pipelines');

describe('the published JSON Schema', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false, formats: { uri: true } }).compile(pipelineJsonSchema());

  it('accepts every example pipeline', () => {
    const files = readdirSync(examples, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      const ok = validate(parse(readFileSync(join(examples, file), 'utf8'), { merge: true }));
      expect({ file, errors: validate.errors ?? [] }).toEqual({ file, errors: [] });
      expect(ok).toBe(true);
    }
  });

  it.each([
    ['an unknown job key', { jobs: { a: { stepz: [], steps: [{ run: 'x' }] } } }, 'must NOT have additional properties'],
    ['a bad duration', { jobs: { a: { timeout: '90x', steps: [{ run: 'x' }] } } }, 'must match pattern "^(?=\\d)(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?$"'],
    ['a bad docker mode', { jobs: { a: { docker: 'yes', steps: [{ run: 'x' }] } } }, 'must be equal to one of the allowed values'],
    ['a step without run', { jobs: { a: { steps: [{ name: 'x' }] } } }, "must have required property 'run'"],
    ['pull_request branches that are a number', { on: { pull_request: { branches: 3 } }, jobs: { a: { steps: [{ run: 'x' }] } } }, 'must be string'],
    ['an unknown when event', { jobs: { a: { when: { event: 'pr' }, steps: [{ run: 'x' }] } } }, 'must be equal to one of the allowed values'],
  ])('refuses %s, as the validator does', (_name, doc, message) => {
    expect(validate(doc)).toBe(false);
    expect(validate.errors!.map((e) => e.message)).toContain(message);
  });

  it('takes on.pull_request in every form the validator takes, and pull_request in when.event', () => {
    for (const pr of [{}, null, true, false, { branches: 'main' }, { branches: ['main', 'release/*'] }]) {
      expect(validate({ on: { pull_request: pr }, jobs: { a: { when: { event: ['pull_request'] }, steps: [{ run: 'x' }] } } }), JSON.stringify(pr)).toBe(true);
    }
  });

  it('describes keys for editors', () => {
    const schema = pipelineJsonSchema() as { properties: { jobs: { additionalProperties: { properties: Record<string, { description?: string }> } } } };
    expect(schema.properties.jobs.additionalProperties.properties.approval!.description).toMatch(/blocked/);
  });
});
