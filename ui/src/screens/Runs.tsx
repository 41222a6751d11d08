import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "../lib/api";
import { jobRunning, useJob } from "../lib/jobs";
import { KIND_LABEL, runDuration, useRuns } from "../lib/runs";
import { ErrorBox } from "../components/ErrorBox";
import { RateChart } from "../components/RateChart";
import { ResultPanel, STATUS_LABEL } from "../components/ResultPanel";

export default function Runs({ initial }: { initial?: string | null }) {
  const job = useJob();
  const runs = useRuns(jobRunning(job));
  const [chosen, setChosen] = useState<string | null>(initial ?? null);
  const list = runs.data ?? [];
  const selected = list.find((r) => r.summary.run === chosen) ?? null;
  const rates = useQuery({
    queryKey: ["rates", selected?.summary.run, selected?.summary.status],
    queryFn: () => unwrap(commands.runRates(selected!.summary.run)),
    enabled: !!selected,
  });
  return (
    <div className="screen runs">
      <div className="screen-head">
        <h2>Runs</h2>
        <span className="muted small">Every import, check, export, undo and flow run, newest first.</span>
      </div>
      <ErrorBox error={runs.error} />
      {runs.isSuccess && list.length === 0 && <p className="hint">No runs yet: start one on the Imports screen.</p>}
      {list.length > 0 && (
        <div className="table-wrap runs-list">
          <table className="data" aria-label="Runs">
            <thead>
              <tr>
                <th>Started</th>
                <th>Kind</th>
                <th>Object</th>
                <th>Status</th>
                <th className="num">Rows</th>
                <th className="num">Failed</th>
                <th className="num">Took</th>
                <th className="num">API calls</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.summary.run} className={r.summary.run === chosen ? "chosen" : ""} data-run={r.summary.run} onClick={() => setChosen(r.summary.run)}>
                  <td>
                    <button className="link" onClick={() => setChosen(r.summary.run)} aria-label={`Show run ${r.summary.run}`}>
                      {new Date(r.started_at).toLocaleString()}
                    </button>
                  </td>
                  <td>
                    {KIND_LABEL[r.kind] ?? r.kind} <span className="muted">{r.summary.operation !== r.kind ? r.summary.operation : ""}</span>
                  </td>
                  <td>{r.summary.object}</td>
                  <td className={"status-" + r.summary.status}>
                    {STATUS_LABEL[r.summary.status]}
                    {r.resumable && r.summary.status !== "failed" && <span className="badge warn">resumable</span>}
                  </td>
                  <td className="num">{r.summary.rows.toLocaleString()}</td>
                  <td className={"num" + (r.summary.failed ? " bad" : "")}>{r.summary.failed.toLocaleString()}</td>
                  <td className="num">{runDuration(r)}</td>
                  <td className="num">{r.summary.api_calls.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected && (
        <>
          <ResultPanel
            key={selected.summary.run}
            summary={selected.summary}
            kind={selected.kind}
            error={selected.error}
            resumable={selected.resumable}
            onChanged={(s) => {
              // The new run (a retry, resume or undo) is shown next.
              setChosen(s.run);
              void runs.refetch();
            }}
          />
          <section className="panel" aria-label="Speed">
            {selected.kind !== "flow" && (
              <>
                <h3>Rows per second</h3>
                <ErrorBox error={rates.error} />
                {rates.data && <RateChart samples={rates.data} />}
              </>
            )}
            <p className="muted small">
              {selected.flow ? `flow ${selected.flow} · ` : ""}
              {selected.connection}
              {selected.input_file ? ` · ${selected.input_file}` : ""}
              {selected.retry_of ? ` · takes up run ${selected.retry_of}` : ""}
            </p>
          </section>
        </>
      )}
    </div>
  );
}
