// A run's jobs as an SVG graph: a column per plan stage, a box per job coloured by its
// status with its duration, and an edge for every `needs`. A matrix job's combinations are framed
// together under the job's name, each box showing its whole combination.
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
  /** What the box says: the job's name, or inside a matrix group its combination ("suite=unit, mode=fast"). */
  label: string;
  x: number;
  y: number;
  w: number;
}

/** A matrix job's combinations, framed together under the job's key. */
export interface GraphGroup {
  key: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const GROUP_HEAD = 24;
const GROUP_PAD = 8;
/** A generous width per character of the 12px label font: a box is never narrower than its text. */
const CHAR_W = 7.4;

const combination = (job: JobWithSteps) => Object.entries(job.plan.matrix ?? {}).map(([axis, value]) => `${axis}=${value}`).join(', ');

/**
 * Where each job's box goes: columns from the plan's stages (by name), then any the plan does not
 * list. A matrix job's combinations sit together in one group; a column is as wide as its longest label.
 */
export function layoutGraph(run: RunDetail): { boxes: GraphBox[]; groups: GraphGroup[]; width: number; height: number } {
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
  const groups: GraphGroup[] = [];
  let x = PAD;
  let height = 0;
  for (const column of columns) {
    // A matrix job's combinations together, in the order the plan gave them, where its first one stood.
    const keys = [...new Set(column.map((j) => (j.plan.matrix ? `m:${j.plan.key}` : `j:${j.name}`)))];
    const runs = keys.map((k) => column.filter((j) => (j.plan.matrix ? `m:${j.plan.key}` : `j:${j.name}`) === k));
    const labelled = runs.map((jobs) => jobs.map((job) => ({ job, label: job.plan.matrix ? combination(job) : job.name })));
    const inner = Math.max(BOX_W, ...labelled.flat().map((b) => Math.ceil(b.label.length * CHAR_W) + 20), ...runs.filter((r) => r[0]!.plan.matrix).map((r) => Math.ceil(r[0]!.plan.key.length * CHAR_W) + 20));
    const grouped = runs.some((r) => r[0]!.plan.matrix);
    const w = inner + (grouped ? 2 * GROUP_PAD : 0);
    let y = PAD;
    for (const members of labelled) {
      const first = members[0]!.job;
      if (first.plan.matrix) {
        const top = y;
        y += GROUP_HEAD;
        for (const m of members) {
          boxes.push({ ...m, x: x + GROUP_PAD, y, w: inner });
          y += BOX_H + GROUP_PAD;
        }
        groups.push({ key: first.plan.key, x, y: top, w, h: y - top });
        y += GAP_Y - GROUP_PAD;
      } else {
        boxes.push({ ...members[0]!, x: x + (w - inner) / 2, y, w: inner });
        y += BOX_H + GAP_Y;
      }
    }
    height = Math.max(height, y - GAP_Y + PAD);
    x += w + GAP_X;
  }
  return { boxes, groups, width: Math.max(PAD * 2 + BOX_W, x - GAP_X + PAD), height: Math.max(height, PAD * 2 + BOX_H) };
}

export function RunGraph({ run, nowMs }: { run: RunDetail; nowMs: number }) {
  const { boxes, groups, width, height } = layoutGraph(run);
  const at = new Map(boxes.map((b) => [b.job.name, b]));
  const edges = boxes.flatMap((to) =>
    to.job.needs.map((need) => at.get(need)).filter((from): from is GraphBox => from !== undefined).map((from) => {
      const x1 = from.x + from.w;
      const y1 = from.y + BOX_H / 2;
      const x2 = to.x;
      const y2 = to.y + BOX_H / 2;
      const mid = (x1 + x2) / 2;
      return { key: `${from.job.name}->${to.job.name}`, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` };
    }),
  );
  return (
    <svg class="graph" xmlns="http://www.w3.org/2000/svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="jobs graph">
      {groups.map((g) => (
        <g class="matrix-group" data-matrix-group={g.key}>
          <rect x={g.x} y={g.y} width={g.w} height={g.h} rx="8" />
          <text class="group" x={g.x + GROUP_PAD + 2} y={g.y + 16}>{g.key}</text>
        </g>
      ))}
      {edges.map((e) => <path class="edge" d={e.d} data-edge={e.key} />)}
      {boxes.map(({ job, label, x, y, w }) => (
        <a href={`/runs/${run.id}/jobs/${job.id}`} data-job={job.name} data-status={job.status}>
          <title>{`${job.name}: ${job.status}`}</title>
          <rect x={x} y={y} width={w} height={BOX_H} rx="6" fill={STATUS_COLOURS[job.status]} />
          <text class="name" x={x + 10} y={y + 20}>{label}</text>
          <text class="sub" x={x + 10} y={y + 38}>{`${job.status}${job.startedAt ? ` · ${duration(job.startedAt, job.finishedAt, nowMs)}` : ''}`}</text>
        </a>
      ))}
    </svg>
  );
}
