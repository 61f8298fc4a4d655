// A run's jobs as an SVG graph: a column per plan stage, a box per job coloured by its
// status with its duration, and an edge for every `needs`.
import type { Status } from '../../shared/status.js';
import type { JobWithSteps, RunDetail } from '../store/index.js';
import { duration } from './layout.js';

export const STATUS_COLOURS: Record<Status, string> = {
  queued: '#8c959f', blocked: '#8250df', running: '#bf8700', success: '#1a7f37', failed: '#cf222e',
  cancelled: '#57606a', skipped: '#afb8c1', error: '#cf222e',
};

const BOX_W = 190;
const BOX_H = 50;
const GAP_X = 70;
const GAP_Y = 18;
const PAD = 16;

export interface GraphBox {
  job: JobWithSteps;
  x: number;
  y: number;
}

/** Where each job's box goes: columns from the plan's stages (by name), then any the plan does not list. */
export function layoutGraph(run: RunDetail): { boxes: GraphBox[]; width: number; height: number } {
  const byName = new Map(run.jobs.map((j) => [j.name, j]));
  const columns: JobWithSteps[][] = [];
  const placed = new Set<string>();
  for (const stage of run.plan?.stages ?? []) {
    const column = stage.map((name) => byName.get(name)).filter((j): j is JobWithSteps => j !== undefined);
    for (const j of column) placed.add(j.name);
    if (column.length) columns.push(column);
  }
  const rest = run.jobs.filter((j) => !placed.has(j.name));
  if (rest.length) columns.push(rest);
  const boxes: GraphBox[] = [];
  columns.forEach((column, c) => column.forEach((job, r) => boxes.push({ job, x: PAD + c * (BOX_W + GAP_X), y: PAD + r * (BOX_H + GAP_Y) })));
  const rows = Math.max(1, ...columns.map((c) => c.length));
  return { boxes, width: PAD * 2 + Math.max(1, columns.length) * BOX_W + Math.max(0, columns.length - 1) * GAP_X, height: PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y };
}

export function RunGraph({ run, nowMs }: { run: RunDetail; nowMs: number }) {
  const { boxes, width, height } = layoutGraph(run);
  const at = new Map(boxes.map((b) => [b.job.name, b]));
  const edges = boxes.flatMap((to) =>
    to.job.needs.map((need) => at.get(need)).filter((from): from is GraphBox => from !== undefined).map((from) => {
      const x1 = from.x + BOX_W;
      const y1 = from.y + BOX_H / 2;
      const x2 = to.x;
      const y2 = to.y + BOX_H / 2;
      const mid = (x1 + x2) / 2;
      return { key: `${from.job.name}->${to.job.name}`, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` };
    }),
  );
  const label = (name: string) => (name.length > 24 ? `${name.slice(0, 23)}…` : name);
  return (
    <svg class="graph" xmlns="http://www.w3.org/2000/svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="jobs graph">
      {edges.map((e) => <path class="edge" d={e.d} data-edge={e.key} />)}
      {boxes.map(({ job, x, y }) => (
        <a href={`/runs/${run.id}/jobs/${job.id}`} data-job={job.name} data-status={job.status}>
          <title>{`${job.name}: ${job.status}`}</title>
          <rect x={x} y={y} width={BOX_W} height={BOX_H} rx="6" fill={STATUS_COLOURS[job.status]} />
          <text class="name" x={x + 10} y={y + 20}>{label(job.name)}</text>
          <text class="sub" x={x + 10} y={y + 38}>{`${job.status}${job.startedAt ? ` · ${duration(job.startedAt, job.finishedAt, nowMs)}` : ''}`}</text>
        </a>
      ))}
    </svg>
  );
}
