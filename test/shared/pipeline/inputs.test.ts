// Typed build parameters: the declaration's problems, as `kiln validate` shows them, and a run's
// values checked against it with one-line errors, defaults filled in, substituted into the plan.
import { describe, expect, it } from 'vitest';
import { defaultInputs, inputEnv, planWithInputs, resolveInputs } from '../../../shared/pipeline/inputs.js';
import { planOf, problemsOf, yaml } from './helpers.js';

const withInputs = (inputs: string) => `on:\n  manual:\n    inputs:\n${inputs.replace(/^/gm, '      ')}\njobs:\n  a:\n    steps: [{run: x}]\n`;

const plan = planOf(yaml`
  on:
    push: true
    manual:
      inputs:
        version: {type: string, required: true, description: the release}
        target: {type: choice, options: [staging, production], default: staging}
        dry-run: {type: boolean}
        replicas: {type: number, default: 2}
  jobs:
    deploy:
      environment: \${{ inputs.target }}
      env: { V: "\${{ inputs.version }}" }
      steps:
        - run: echo deploy \${{ inputs.version }} to \${{ inputs.target }} dry=\${{ inputs.dry-run }} x\${{ inputs.replicas }}
`);
const declared = plan.inputs!;

describe('the declaration', () => {
  it('is planned in file order with types, defaults and options', () => {
    expect(declared).toEqual([
      { name: 'version', type: 'string', description: 'the release', required: true, default: null, options: [] },
      { name: 'target', type: 'choice', description: null, required: false, default: 'staging', options: ['staging', 'production'] },
      { name: 'dry-run', type: 'boolean', description: null, required: false, default: null, options: [] },
      { name: 'replicas', type: 'number', description: null, required: false, default: 2, options: [] },
    ]);
    expect(plan.triggers.manual).toBe(true);
  });

  it.each([
    ['an unknown type', 'v: {type: text}', 4, 17, 'on.manual.inputs.v.type: expected string, number, boolean, choice'],
    ['a choice without options (its default unchecked)', 'env: {type: choice, default: qa}', 4, 12, 'on.manual.inputs.env: a choice input needs `options:`, a list of its values'],
    ['a default not among the options', 'env: {type: choice, options: [a, b], default: c}', 4, 53, 'on.manual.inputs.env.default: expected one of a, b, got "c"'],
    ['options on a string', 'v: {options: [a]}', 4, 11, 'on.manual.inputs.v.options: `options` is only for `type: choice`'],
    ['a boolean default that is text', 'v: {type: boolean, default: yes please}', 4, 35, 'on.manual.inputs.v.default: expected true or false, got "yes please"'],
    ['a bad name', '"my input": {}', 4, 7, 'on.manual.inputs."my input": "my input": an input name is letters, digits, _ and -, not starting with a digit or -'],
    ['two names with one variable', 'dry-run: {}\ndry_run: {}', 5, 7, 'on.manual.inputs.dry_run: inputs "dry-run" and "dry_run" would both be KILN_INPUT_DRY_RUN; rename one'],
    ['an unknown key', 'v: {requred: true}', 4, 11, 'on.manual.inputs.v.requred: unknown key "requred" (did you mean "required"?)'],
  ])('refuses %s', (_rule, inputs, line, col, message) => {
    expect(problemsOf(withInputs(inputs))).toEqual([expect.objectContaining({ line, col, message })]);
  });

  it('refuses an expression naming an undeclared input, with a hint', () => {
    const text = 'on:\n  manual:\n    inputs:\n      version: {}\njobs:\n  a:\n    steps: [{run: "echo ${{ inputs.verson }}"}]\n';
    expect(problemsOf(text).map((p) => p.message)).toEqual(['jobs.a.steps[0].run: no input named "verson" (did you mean "version"?)']);
    expect(problemsOf('jobs:\n  a:\n    steps: [{run: "echo ${{ inputs.x }}"}]\n').map((p) => p.message))
      .toEqual(['jobs.a.steps[0].run: no input named "x": `on.manual.inputs` declares none']);
  });
});

describe('a run\'s values', () => {
  it('fill in defaults and take text or typed values', () => {
    expect(resolveInputs(declared, { version: '1.2.0' })).toEqual({ version: '1.2.0', target: 'staging', 'dry-run': false, replicas: 2 });
    expect(resolveInputs(declared, { version: '1.2.0', target: 'production', 'dry-run': 'true', replicas: '5' }))
      .toEqual({ version: '1.2.0', target: 'production', 'dry-run': true, replicas: 5 });
    expect(resolveInputs(declared, { version: '2', 'dry-run': true, replicas: 3.5 })).toMatchObject({ 'dry-run': true, replicas: 3.5 });
  });

  it.each([
    ['a missing required value', {}, 'input "version" is required (the release)'],
    ['an empty required value', { version: '' }, 'input "version" is required (the release)'],
    ['an unknown input', { version: '1', targt: 'x' }, 'unknown input "targt" (did you mean "target"?); the pipeline declares version, target, dry-run, replicas'],
    ['a value not among the options', { version: '1', target: 'prod' }, 'input "target": expected one of staging, production, got "prod"'],
    ['a boolean that is not one', { version: '1', 'dry-run': 'maybe' }, 'input "dry-run": expected true or false, got "maybe"'],
    ['a number that is not one', { version: '1', replicas: 'two' }, 'input "replicas": expected a number, got "two"'],
    ['a number given for text', { version: 1 }, 'input "version": expected text, got 1'],
    ['a value holding an expression', { version: '${{ env.TOKEN }}' }, 'input "version": a value cannot hold ${{'],
  ])('refuse %s in one line', (_case, given, message) => {
    expect(() => resolveInputs(declared, given)).toThrow(expect.objectContaining({ code: 'bad_input', message }));
  });

  it('are refused when the pipeline declares none', () => {
    expect(() => resolveInputs([], { a: '1' })).toThrow('unknown input "a": the pipeline declares no inputs');
  });

  it('are the defaults for runs no one gave inputs to', () => {
    expect(defaultInputs(declared)).toEqual({ target: 'staging', 'dry-run': false, replicas: 2 });
  });

  it('become KILN_INPUT_* variables and are substituted into every job of the plan', () => {
    const values = resolveInputs(declared, { version: '1.2.0', target: 'production' });
    expect(inputEnv(values)).toEqual({
      KILN_INPUT_VERSION: '1.2.0', KILN_INPUT_TARGET: 'production', KILN_INPUT_DRY_RUN: 'false', KILN_INPUT_REPLICAS: '2',
    });
    const job = planWithInputs(plan, values).jobs[0]!;
    expect(job.steps[0]!.run).toBe('echo deploy 1.2.0 to production dry=false x2');
    expect(job.environment).toBe('production');
    expect(job.env.V).toBe('1.2.0');
    expect(inputEnv(defaultInputs(declared))).not.toHaveProperty('KILN_INPUT_VERSION');
    expect(planWithInputs(plan, defaultInputs(declared)).jobs[0]!.steps[0]!.run).toBe('echo deploy  to staging dry=false x2');
  });
});
