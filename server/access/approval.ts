// Who may approve a job that waits for approval: a developer of its repo; a maintainer when its
// environment is protected; only the environment's approvers (user names, `group:NAME`) when it
// names them; and, with `separate_approver`, never the person who started the run. Server admins
// (and the admin token) may approve any job; the rule against approving one's own run still
// holds for an admin user. The answer is the refusal, in one line, or null.
import type { Job } from '../store/index.js';
import { can, isServerAdmin, nameOf, type Principal } from './principal.js';

export function approvalRefusal(p: Principal, job: Job, repo: string, triggeredBy: string | null, closed: boolean): string | null {
  const policy = job.plan.approvalPolicy ?? null;
  const environment = job.plan.environment;
  const where = environment ? `a deployment to ${environment}` : `job ${job.name}`;
  const who = nameOf(p);
  if (policy?.separateApprover && p.user && triggeredBy !== null && triggeredBy.toLowerCase() === p.user.name.toLowerCase()) {
    return `${who} started this run: ${where} needs another person's approval`;
  }
  if (isServerAdmin(p)) return null;
  if (!can(p, policy?.protected ? 'maintain' : 'run', repo, closed)) {
    return `${who} may not approve ${where}: it needs the ${policy?.protected ? 'maintainer' : 'developer'} role on ${repo}`;
  }
  const approvers = policy?.approvers ?? null;
  if (approvers !== null && approvers.length > 0) {
    const groups = new Set((p.user?.groups ?? []).map((g) => `group:${g}`.toLowerCase()));
    const listed = p.user !== null && approvers.some((a) => a.toLowerCase() === p.user!.name.toLowerCase() || groups.has(a.toLowerCase()));
    if (!listed) return `${who} may not approve ${where}: its approvers are ${approvers.join(', ')}`;
  }
  return null;
}
