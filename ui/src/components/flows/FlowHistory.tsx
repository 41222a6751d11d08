import type { RunRecord } from "../../bindings";
import { STATUS_LABEL } from "../ResultPanel";
import { runDuration } from "../../lib/runs";

/** A flow's runs, newest first, with records and errors per run charted
 * over time; a run opens on the Runs screen with its per-record outcomes. */
export function FlowHistory({ runs, onOpen }: { runs: RunRecord[]; onOpen: (run: string) => void }) {
  if (runs.length === 0) {
    return <p className="hint">No runs yet. A run appears when a poll finds changes (or a schedule ticks).</p>;
  }
  return (
    <div className="flow-history">
      <RunsChart runs={runs} />
      <div className="table-wrap">
        <table className="data" aria-label="Flow runs">
          <thead>
            <tr>
              <th>Started</th>
              <th>Status</th>
              <th className="num">Records</th>
              <th className="num">Failed</th>
              <th className="num">Took</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.summary.run} data-run={r.summary.run}>
                <td>
                  <button className="link" onClick={() => onOpen(r.summary.run)} aria-label={`Open run ${r.summary.run}`}>
                    {new Date(r.started_at).toLocaleString()}
                  </button>
                </td>
                <td className={"status-" + r.summary.status}>{STATUS_LABEL[r.summary.status]}</td>
                <td className="num">{r.summary.rows}</td>
                <td className="num">{r.summary.failed}</td>
                <td className="num">{runDuration(r)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** Records (bar) and failed records (its red part) per run, oldest left. */
function RunsChart({ runs }: { runs: RunRecord[] }) {
  const shown = [...runs].reverse().slice(-60);
  const most = Math.max(1, ...shown.map((r) => r.summary.rows));
  // Thin bars even for a few runs: a lone run is not a wall of colour.
  const w = 100 / Math.max(shown.length, 20);
  const first = new Date(shown[0].started_at).toLocaleString();
  const last = new Date(shown[shown.length - 1].started_at).toLocaleString();
  const failed = shown.reduce((n, r) => n + r.summary.failed, 0);
  const records = shown.reduce((n, r) => n + r.summary.rows, 0);
  return (
    <figure className="runs-chart" title={`${first} – ${last}`}>
      <svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label={`${records} records and ${failed} failed over ${shown.length} runs`}>
        {shown.map((r, i) => {
          const h = (r.summary.rows / most) * 38;
          const bad = (r.summary.failed / most) * 38;
          return (
            <g key={r.summary.run}>
              <title>{`${new Date(r.started_at).toLocaleString()}: ${r.summary.rows} records, ${r.summary.failed} failed`}</title>
              <rect className="bar-ok" x={i * w + w * 0.15} width={w * 0.7} y={40 - h} height={h} />
              {bad > 0 && <rect className="bar-bad" x={i * w + w * 0.15} width={w * 0.7} y={40 - bad} height={bad} />}
            </g>
          );
        })}
      </svg>
      <figcaption className="small muted">
        Records per run, failed in red ({shown.length} run{shown.length === 1 ? "" : "s"})
      </figcaption>
    </figure>
  );
}
