// The labels an agent must have to take a job: the job's `runs-on`, plus `docker` when the
// job needs a Docker engine (an `image`, or `docker: dood|dind`). Agents add `docker` to their
// own labels when their engine answers, so the queue can say why an image job waits.

export const DOCKER_LABEL = 'docker';

export function requiredLabels(job: { runsOn: readonly string[]; image: string | null; docker: string | null }): string[] {
  const labels = [...job.runsOn];
  if ((job.image !== null || job.docker !== null) && !labels.includes(DOCKER_LABEL)) labels.push(DOCKER_LABEL);
  return labels;
}
