// The labels on every container, network and volume kiln creates, and the filters that find them.

export const LABEL_MANAGED = 'kiln.managed';
export const LABEL_AGENT = 'kiln.agent';
export const LABEL_JOB = 'kiln.job';

/** The labels for a resource made for job `jobId` by agent `agentName`. */
export function jobLabels(agentName: string, jobId: number): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_AGENT]: agentName, [LABEL_JOB]: String(jobId) };
}

/**
 * Docker `filters` (JSON-encodable) that select what this agent made, or what it made for one
 * job: `{ label: ['kiln.managed=true', 'kiln.agent=a1', 'kiln.job=7'] }`. All labels must match.
 */
export function labelFilters(agentName: string, jobId?: number): { label: string[] } {
  const label = [`${LABEL_MANAGED}=true`, `${LABEL_AGENT}=${agentName}`];
  if (jobId !== undefined) label.push(`${LABEL_JOB}=${jobId}`);
  return { label };
}
