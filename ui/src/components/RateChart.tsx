import type { RateSample } from "../bindings";

/** Rows per second over a run, as a line: where a run slowed down. */
export function RateChart({ samples: raw }: { samples: RateSample[] }) {
  // JSON has no NaN: a float may arrive as null.
  const samples = raw.map((s) => ({ seconds: s.seconds ?? 0, rows_per_second: s.rows_per_second ?? 0 }));
  const last = samples[samples.length - 1];
  // One batch gives a start and an end: no curve to show.
  if (samples.length < 3 || !last || last.seconds <= 0) return <p className="muted small">The run was done in one go: too short to chart its speed.</p>;
  const w = 560;
  const h = 140;
  const pad = 34;
  const maxX = samples[samples.length - 1].seconds || 1;
  const maxY = Math.max(...samples.map((s) => s.rows_per_second), 1);
  const x = (s: number) => pad + (s / maxX) * (w - pad - 8);
  const y = (r: number) => h - 18 - (r / maxY) * (h - 30);
  const points = samples.map((s) => `${x(s.seconds).toFixed(1)},${y(s.rows_per_second).toFixed(1)}`).join(" ");
  return (
    <svg className="chart" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`Rows per second over ${Math.round(maxX)} seconds, peak ${Math.round(maxY)}`}>
      <line x1={pad} y1={h - 18} x2={w - 8} y2={h - 18} className="axis" />
      <line x1={pad} y1={12} x2={pad} y2={h - 18} className="axis" />
      <text x={pad - 4} y={16} className="tick" textAnchor="end">
        {Math.round(maxY).toLocaleString()}
      </text>
      <text x={pad - 4} y={h - 18} className="tick" textAnchor="end">
        0
      </text>
      <text x={w - 8} y={h - 4} className="tick" textAnchor="end">
        {maxX.toFixed(maxX < 10 ? 1 : 0)} s
      </text>
      <text x={pad + 4} y={h - 4} className="tick">
        rows/s over the run
      </text>
      <polyline points={points} className="line" />
    </svg>
  );
}
