// The cost page's bar chart for one pool: per day, busy and idle agent-minutes stacked, and the
// agent-minutes a fixed pool of `max` would have used as a dashed mark (same frame as chart.tsx).
import type { PoolDay } from '../usage/agent-usage.js';

const W = 720;
const H = 220;
const PAD_L = 48;
const PAD_R = 12;
const PAD_T = 12;
const PAD_B = 24;

export const USAGE_COLOURS = { busy: '#bf8700', idle: '#8c959f', fixed: '#0969da' } as const;

export function UsageChart({ rows }: { rows: PoolDay[] }) {
  if (rows.length === 0) return <p class="muted">No days to show.</p>;
  const top = Math.max(1, ...rows.map((r) => Math.max(r.agentMinutes, r.fixedPoolMinutes ?? 0)));
  const slot = (W - PAD_L - PAD_R) / rows.length;
  const bar = Math.max(2, slot * 0.6);
  const y = (v: number) => PAD_T + (1 - v / top) * (H - PAD_T - PAD_B);
  const ticks = [0, Math.round(top / 2), Math.round(top)].filter((v, i, a) => a.indexOf(v) === i);
  return (
    <figure>
      <svg class="chart" xmlns="http://www.w3.org/2000/svg" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label="agent-minutes per day, busy and idle, against a fixed pool">
        {ticks.map((v) => (
          <g>
            <line x1={PAD_L} x2={W - PAD_R} y1={y(v)} y2={y(v)} stroke="#d0d7de" />
            <text x={PAD_L - 6} y={y(v) + 4} text-anchor="end">{String(v)}</text>
          </g>
        ))}
        {rows.map((r, i) => {
          const x = PAD_L + i * slot + (slot - bar) / 2;
          return (
            <g data-day={r.day}>
              <rect x={x.toFixed(1)} y={y(r.busyMinutes).toFixed(1)} width={bar.toFixed(1)} height={(y(0) - y(r.busyMinutes)).toFixed(1)} fill={USAGE_COLOURS.busy} data-series="busy" />
              <rect x={x.toFixed(1)} y={y(r.agentMinutes).toFixed(1)} width={bar.toFixed(1)} height={(y(r.busyMinutes) - y(r.agentMinutes)).toFixed(1)} fill={USAGE_COLOURS.idle} data-series="idle" />
              {r.fixedPoolMinutes !== null ? (
                <line x1={(x - 4).toFixed(1)} x2={(x + bar + 4).toFixed(1)} y1={y(r.fixedPoolMinutes).toFixed(1)} y2={y(r.fixedPoolMinutes).toFixed(1)}
                  stroke={USAGE_COLOURS.fixed} stroke-width="2" stroke-dasharray="4 3" data-series="fixed" />
              ) : null}
              {rows.length <= 14 || i % Math.ceil(rows.length / 14) === 0
                ? <text x={(x + bar / 2).toFixed(1)} y={H - 6} text-anchor="middle">{r.day.slice(5)}</text> : null}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        <span><i class="swatch" style={`background:${USAGE_COLOURS.busy}`}></i>busy agent-minutes</span>
        <span><i class="swatch" style={`background:${USAGE_COLOURS.idle}`}></i>idle agent-minutes</span>
        <span><i class="swatch" style={`background:${USAGE_COLOURS.fixed}`}></i>a fixed pool of max</span>
      </figcaption>
    </figure>
  );
}
