import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../../shared/pipeline/schema.js';
import { planOf, problemsOf, yaml } from './helpers.js';

describe('the checkout: key', () => {
  it('plans the reused workspace by default, `fresh`, shallow and partial, with defaults applying like other keys', () => {
    const plan = planOf(yaml`
      defaults:
        checkout: { depth: 1 }
      jobs:
        plain:
          checkout: { fresh: false }
          steps: [{ run: x }]
        inherits:
          steps: [{ run: x }]
        fresh:
          checkout: fresh
          steps: [{ run: x }]
        partial:
          checkout: { filter: blob:none }
          steps: [{ run: x }]
        all:
          checkout: { fresh: true, depth: 50, filter: blob:none }
          steps: [{ run: x }]
        none:
          steps: [{ run: x }]
    `);
    const byName = Object.fromEntries(plan.jobs.map((j) => [j.name, j.checkout]));
    expect(byName).toEqual({
      plain: { fresh: false, depth: null, filter: null },
      inherits: { fresh: false, depth: 1, filter: null },
      fresh: { fresh: true, depth: null, filter: null },
      partial: { fresh: false, depth: null, filter: 'blob:none' },
      all: { fresh: true, depth: 50, filter: 'blob:none' },
      none: { fresh: false, depth: 1, filter: null },
    });
    expect(planOf('jobs:\n  a:\n    steps: [{ run: x }]\n').jobs[0]!.checkout).toEqual({ fresh: false, depth: null, filter: null });
  });

  it('refuses other values with the line and a reason', () => {
    expect(problemsOf('jobs:\n  a:\n    checkout: stale\n    steps: [{ run: x }]\n')).toEqual([
      expect.objectContaining({ path: 'jobs.a.checkout', line: 3, message: expect.stringContaining('expected fresh or a mapping with fresh, depth and filter') }),
    ]);
    expect(problemsOf('jobs:\n  a:\n    checkout: { depth: 0 }\n    steps: [{ run: x }]\n')[0]).toMatchObject({ line: 3 });
    expect(problemsOf('jobs:\n  a:\n    checkout: { filter: tree:0 }\n    steps: [{ run: x }]\n')[0]).toMatchObject({ line: 3 });
    expect(problemsOf('jobs:\n  a:\n    checkout: { submodules: true }\n    steps: [{ run: x }]\n')).toHaveLength(1);
  });

  it('is in the published JSON Schema', () => {
    const job = (pipelineJsonSchema() as { properties: { jobs: { additionalProperties: { properties: Record<string, unknown> } } } }).properties.jobs.additionalProperties;
    expect(JSON.stringify(job.properties.checkout)).toContain('blob:none');
  });
});
