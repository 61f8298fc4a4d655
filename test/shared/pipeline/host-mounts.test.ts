// A pipeline has no way to mount host paths into its containers (that would let any committer
// read the agent's host): only the agent's owner can, with --docker-volumes.
import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../../shared/pipeline/index.js';
import { problemsOf } from './helpers.js';

const job = (body: string) => `jobs:\n  build:\n    image: busybox:latest\n${body.replace(/^/gm, '    ')}\n`;

describe('host paths in pipeline.yml', () => {
  it.each([
    ['volumes on a job', job('volumes: ["/etc:/host-etc:ro"]\nsteps: [{run: cat /host-etc/shadow}]'), 4, 5, 'jobs.build.volumes: unknown key "volumes"'],
    ['mounts on a job', job('mounts: [{ source: /, target: /host }]\nsteps: [{run: ls /host}]'), 4, 5, 'jobs.build.mounts: unknown key "mounts"'],
    ['docker options on a job', job('options: "-v /:/host"\nsteps: [{run: ls /host}]'), 4, 5, 'jobs.build.options: unknown key "options"'],
    ['volumes on a service', job('services:\n  db:\n    image: postgres:16\n    volumes: ["/:/host"]\nsteps: [{run: x}]'), 7, 9, 'jobs.build.services.db.volumes: unknown key "volumes"'],
    ['volumes on a step', job('steps:\n  - run: ls /host\n    volumes: ["/:/host"]'), 6, 9, 'jobs.build.steps[0].volumes: unknown key "volumes"'],
    ['volumes in defaults', 'defaults:\n  volumes: ["/:/host"]\njobs:\n  a:\n    steps: [{run: x}]\n', 2, 3, 'defaults.volumes: unknown key "volumes"'],
    ['docker as a mapping with volumes', job('docker: { volumes: ["/:/host"] }\nsteps: [{run: x}]'), 4, 13, 'jobs.build.docker: expected dood or dind'],
  ])('refuses %s', (_what, text, line, col, message) => {
    expect(problemsOf(text)).toEqual([expect.objectContaining({ line, col, message: expect.stringContaining(message) })]);
  });

  it('publishes no key that could name a host path to mount', () => {
    const keys = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'inputs') continue; // on.manual.inputs: a choice's `options` are its values, for no container
          if (key === 'properties' && value && typeof value === 'object') for (const name of Object.keys(value)) keys.add(name);
          walk(value);
        }
      }
    };
    walk(pipelineJsonSchema());
    expect([...keys].filter((k) => /volume|mount|bind|device|options|privileged|cap_add|security/i.test(k))).toEqual([]);
  });
});
