// Who may approve a blocked job: `environments.<name>` in pipeline.yml names approvers (users,
// group:NAME), protects it (maintainers), and can forbid approving one's own run; checked on a
// real store with real users, and recorded (who, when) when the approval goes through.
import { describe, expect, it } from 'vitest';
import { approvalRefusal } from '../../../server/access/approval.js';
import { ANONYMOUS, type Principal } from '../../../server/access/index.js';
import type { Role } from '../../../server/store/index.js';
import { planOf, problemsOf, yaml } from '../../shared/pipeline/helpers.js';
import { newRun, seeded } from '../store/fixtures.js';

const PIPELINE = yaml`
  environments:
    production:
      approvers: [alice, group:ops]
      separate_approver: true
    staging:
      protected: true
  jobs:
    build:
      steps: [{ run: make }]
    stage:
      needs: [build]
      environment: staging
      approval: true
      steps: [{ run: deploy staging }]
    ship:
      needs: [build]
      environment: production
      steps: [{ run: deploy production }]
    gate:
      approval: true
      steps: [{ run: echo go }]
`;

function setup() {
  const ctx = seeded();
  const plan = planOf(PIPELINE);
  const run = ctx.store.runs.createRun(newRun(ctx.repo.id, { plan, event: 'api', triggeredBy: 'alice' }));
  const job = (name: string) => ctx.store.jobs.getJob(run.jobs.find((j) => j.name === name)!.id)!;
  const user = (name: string, role: Role, groups: string[] = []): Principal => {
    const u = ctx.store.users.addUser({ name, groups });
    return { kind: 'user', user: ctx.store.users.setRole(u.id, 'web', role), via: 'session', token: null };
  };
  return { ...ctx, run, plan, job, user };
}

describe('approvals', () => {
  it('plans an environment with approvers as a gate on every job that deploys to it', () => {
    const { plan } = setup();
    const ship = plan.jobs.find((j) => j.name === 'ship')!;
    expect(ship).toMatchObject({ approval: true, approvalPolicy: { approvers: ['alice', 'group:ops'], separateApprover: true, protected: true } });
    expect(plan.jobs.find((j) => j.name === 'stage')!.approvalPolicy).toEqual({ approvers: null, separateApprover: false, protected: true });
    expect(plan.jobs.find((j) => j.name === 'gate')!.approvalPolicy).toBeUndefined();
    expect(problemsOf('environments:\n  prod:\n    approver: [alice]\njobs:\n  a:\n    steps: [{ run: x }]\n').map((p) => p.message).join()).toMatch(/approver/);
  });

  it('lets only the named approvers approve, never the one who started the run, and any developer approve a plain gate', () => {
    const s = setup();
    const ship = s.job('ship');
    const alice = s.user('alice', 'maintainer');
    const olga = s.user('olga', 'maintainer', ['ops']);
    const mike = s.user('mike', 'maintainer');
    const dev = s.user('dev', 'developer');
    const viewer = s.user('vic', 'viewer');
    const refusal = (p: Principal, job = ship) => approvalRefusal(p, job, 'web', s.store.runs.triggeredBy(s.run.id), true);
    expect(refusal(alice)).toBe('alice started this run: a deployment to production needs another person\'s approval');
    expect(refusal(olga)).toBeNull();
    expect(refusal(mike)).toBe('mike may not approve a deployment to production: its approvers are alice, group:ops');
    expect(refusal(dev)).toBe('dev may not approve a deployment to production: it needs the maintainer role on web');
    expect(refusal({ ...ANONYMOUS, kind: 'admin-token' })).toBeNull();
    // Protected without approvers: any maintainer.
    expect(refusal(dev, s.job('stage'))).toBe('dev may not approve a deployment to staging: it needs the maintainer role on web');
    expect(refusal(mike, s.job('stage'))).toBeNull();
    // A plain approval gate: a developer.
    expect(refusal(dev, s.job('gate'))).toBeNull();
    expect(refusal(viewer, s.job('gate'))).toBe('vic may not approve job gate: it needs the developer role on web');
  });

  it('records who approved and when', () => {
    const s = setup();
    const gate = s.job('gate');
    expect(s.store.jobs.approvalOf(gate.id)).toBeNull();
    expect(s.store.jobs.approveJob(gate.id, { name: 'olga', atMs: 1_700_000_000_000 })).toBe(true);
    expect(s.store.jobs.approvalOf(gate.id)).toEqual({ by: 'olga', atMs: 1_700_000_000_000 });
  });
});
