// The pools page's line chart: queued jobs and connected agents over time.
import type { Sample } from './samples.js';

const W = 720;
const H = 220;
const PAD_L = 36;
const PAD_R = 12;
const PAD_T = 12;
const PAD_B = 24;

export const CHART_COLOURS = { queued: '#cf222e', agents: '#0969da', busy: '#bf8700' } as const;

export function SamplesChart({ samples }: { samples: Sample[] }) {
  if (samples.length === 0) return <p class="muted">No samples yet.</p>;
  const t0 = samples[0]!.atMs;
  const t1 = Math.max(samples[samples.length - 1]!.atMs, t0 + 1);
  const top = Math.max(1, ...samples.map((s) => Math.max(s.queued, s.agents, s.busy)));
  const x = (t: number) => PAD_L + ((t - t0) / (t1 - t0)) * (W - PAD_L - PAD_R);
  const y = (v: number) => PAD_T + (1 - v / top) * (H - PAD_T - PAD_B);
  const line = (key: keyof typeof CHART_COLOURS) => samples.map((s, i) => `${i === 0 ? 'M' : 'L'}${x(s.atMs).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');
  const ticks = [0, Math.ceil(top / 2), top].filter((v, i, a) => a.indexOf(v) === i);
  const minutes = Math.round((t1 - t0) / 60000);
  return (
    <figure>
      <svg class="chart" xmlns="http://www.w3.org/2000/svg" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label="queued jobs and agents over time">
        {ticks.map((v) => (
          <g>
            <line x1={PAD_L} x2={W - PAD_R} y1={y(v)} y2={y(v)} stroke="#d0d7de" />
            <text x={PAD_L - 6} y={y(v) + 4} text-anchor="end">{String(v)}</text>
          </g>
        ))}
        <text x={PAD_L} y={H - 6}>{minutes > 0 ? `${minutes} min ago` : 'just now'}</text>
        <text x={W - PAD_R} y={H - 6} text-anchor="end">now</text>
        {(Object.keys(CHART_COLOURS) as (keyof typeof CHART_COLOURS)[]).map((key) => (
          <path d={line(key)} fill="none" stroke={CHART_COLOURS[key]} stroke-width="2" data-series={key} />
        ))}
      </svg>
      <figcaption class="legend">
        <span><i class="swatch" style={`background:${CHART_COLOURS.queued}`}></i>queued jobs</span>
        <span><i class="swatch" style={`background:${CHART_COLOURS.agents}`}></i>agents connected</span>
        <span><i class="swatch" style={`background:${CHART_COLOURS.busy}`}></i>agents busy</span>
      </figcaption>
    </figure>
  );
}
