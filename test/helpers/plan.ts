// Builders for PlannedJob / PlannedStep with plain defaults, for tests that run jobs.
import type { PlannedJob, PlannedStep } from '../../shared/pipeline/types.js';

export function plannedStep(run: string, overrides: Partial<PlannedStep> = {}): PlannedStep {
  return {
    name: run.split('\n')[0] ?? run,
    run,
    shell: 'sh -e',
    env: {},
    timeoutMs: null,
    continueOnError: false,
    when: null,
    ...overrides,
  };
}

export function plannedJob(steps: PlannedStep[], overrides: Partial<PlannedJob> = {}): PlannedJob {
  return {
    name: 'test',
    key: 'test',
    matrix: null,
    needs: [],
    runsOn: [],
    image: null,
    pull: 'if-not-present',
    user: null,
    services: [],
    docker: null,
    env: {},
    secrets: [],
    steps,
    cache: null,
    artifacts: null,
    retry: 0,
    timeoutMs: null,
    allowFailure: false,
    when: null,
    environment: null,
    approval: false,
    concurrency: null,
    ...overrides,
  };
}
