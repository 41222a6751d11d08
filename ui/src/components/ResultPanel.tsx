import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type ResultFile, type ResultRows, type RunStatus, type RunSummary } from "../bindings";
import { unwrap } from "../lib/api";
import { jobRunning, startJob, useJob } from "../lib/jobs";
import { ErrorBox } from "./ErrorBox";
import { JobProgress } from "./JobProgress";
import { Rejected } from "../screens/Imports";

export const STATUS_LABEL: Record<RunStatus, string> = {
  queued: "Queued",
  running: "Running",
  completed: "Completed",
  completed_with_errors: "Completed with errors",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

/** What Undo will do, in the words of the confirmation. */
export function undoWords(s: RunSummary): string {
  const parts: string[] = [];
  if (s.created) parts.push(`delete the ${s.created.toLocaleString()} records it created`);
  if (s.updated) parts.push(`put back the values the ${s.updated.toLocaleString()} records it updated had before`);
  if (s.deleted) parts.push(`undelete the ${s.deleted.toLocaleString()} records it deleted`);
  if (s.created) parts[0] += " (to the recycle bin)";
  if (parts.length === 0) return "This import changed no record: there is nothing to undo.";
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}` : parts[0];
  return `Undo will ${list}. Records someone changed since the import are left alone and listed in the undo's error file.`;
}

/** A finished run: its counts, its files, and what can be done next. */
export function ResultPanel({ summary, kind = "import", error, resumable, onChanged }: { summary: RunSummary; kind?: string; error?: string | null; resumable?: boolean; onChanged: (s: RunSummary, kind: string) => void }) {
  const queryClient = useQueryClient();
  const job = useJob();
  const busy = jobRunning(job);
  const [confirmUndo, setConfirmUndo] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const rejected = useQuery({
    queryKey: ["rejected", summary.run, summary.status, summary.failed],
    queryFn: () => unwrap(commands.resultRows(summary.run, "error", 50)),
    enabled: summary.failed > 0 && kind !== "export",
    retry: false,
  });
  const outcomes = useQuery({
    queryKey: ["outcomes", summary.run, summary.status, summary.rows],
    queryFn: () => unwrap(commands.resultRows(summary.run, "outcomes", 200)),
    enabled: kind === "flow" && summary.rows > 0,
    retry: false,
  });
  const openFile = async (which: ResultFile) => {
    setProblem(null);
    try {
      await unwrap(commands.openResultFile(summary.run, which));
    } catch (e) {
      setProblem(e);
    }
  };
  const follow = async (label: string, nextKind: string, start: Parameters<typeof startJob>[1]) => {
    setProblem(null);
    setConfirmUndo(false);
    try {
      onChanged(await startJob(label, start), nextKind);
    } catch (e) {
      setProblem(e);
    } finally {
      queryClient.invalidateQueries({ queryKey: ["runs"] });
    }
  };
  const importLike = kind === "import";
  const s = summary;
  return (
    <section className="panel result" aria-label="Run result" data-run={s.run} data-status={s.status}>
      <div className="result-head">
        <span className={"status status-" + s.status} data-testid="run-status">
          {STATUS_LABEL[s.status]}
        </span>
        <span className="muted small mono">run {s.run}</span>
        <span className="muted small">
          {s.operation} {s.object}
        </span>
      </div>
      {error && s.status !== "cancelled" && <p className="bad small">{error}</p>}
      {kind === "dry-run" && <p className="muted small">A check: nothing was written. The counts are what the import will do.</p>}
      {resumable && <p className="muted small">Resume sends the rows not sent yet; nothing already written is sent twice.</p>}
      {importLike && s.failed > 0 && !resumable && <p className="muted small">To fix failed rows, open the error file, correct them and save it; Retry failed rows sends what the file holds then.</p>}
      {kind === "flow" && s.failed > 0 && (
        <p className="muted small">Retry takes the failed records through the flow (as saved now) again, under the same Idempotency-Key; a record changed since is left to the trigger, which takes its newer change through.</p>
      )}
      <div className="counts">
        <span className="count">
          <b data-testid="rows">{s.rows.toLocaleString()}</b> rows
        </span>
        <span className="count ok">
          <b data-testid="succeeded">{s.succeeded.toLocaleString()}</b> succeeded
        </span>
        {s.created > 0 && (
          <span className="count">
            <b data-testid="created">{s.created.toLocaleString()}</b> created
          </span>
        )}
        {s.updated > 0 && (
          <span className="count">
            <b>{s.updated.toLocaleString()}</b> updated
          </span>
        )}
        {s.unchanged > 0 && (
          <span className="count">
            <b>{s.unchanged.toLocaleString()}</b> unchanged
          </span>
        )}
        {s.deleted > 0 && (
          <span className="count">
            <b>{s.deleted.toLocaleString()}</b> deleted
          </span>
        )}
        <span className={"count" + (s.failed ? " bad" : "")}>
          <b data-testid="failed">{s.failed.toLocaleString()}</b> {resumable ? "failed or not sent yet" : "failed"}
        </span>
        {s.unknown > 0 && (
          <span className="count bad">
            <b>{s.unknown.toLocaleString()}</b> outcome unknown (not re-sent)
          </span>
        )}
        <span className="count">
          <b>{s.api_calls.toLocaleString()}</b> API calls
        </span>
      </div>
      <div className="toolbar small">
        {s.success_file && (
          <button onClick={() => void openFile("success")}>{kind === "export" ? "Open the file" : "Open success file"}</button>
        )}
        {s.error_file && kind !== "export" && <button onClick={() => void openFile("error")}>Open error file</button>}
        {s.unknown_file && <button onClick={() => void openFile("unknown")}>Open unknown file</button>}
        {importLike && s.failed > 0 && !resumable && (
          <button className="primary" disabled={busy} onClick={() => void follow(`Retrying the failed rows of ${s.run}`, "import", (ch) => commands.startRun({ job: "retry", run: s.run, file: null }, ch))}>
            Retry failed rows
          </button>
        )}
        {kind === "flow" && s.failed > 0 && (
          <button className="primary" disabled={busy} onClick={() => void follow(`Retrying the failed records of ${s.run}`, "flow", (ch) => commands.startRun({ job: "retry", run: s.run, file: null }, ch))}>
            Retry failed records
          </button>
        )}
        {resumable && (
          <button className="primary" disabled={busy} onClick={() => void follow(`Resuming ${s.run}`, "import", (ch) => commands.startRun({ job: "resume", run: s.run }, ch))}>
            Resume
          </button>
        )}
        {importLike && (
          <button className="danger" disabled={busy} onClick={() => setConfirmUndo(true)}>
            Undo import…
          </button>
        )}
      </div>
      {confirmUndo && (
        <div className="confirm" role="alertdialog" aria-label="Undo import">
          <p>{undoWords(s)}</p>
          <div className="toolbar">
            <button className="danger" autoFocus onClick={() => void follow(`Undoing ${s.run}`, "undo", (ch) => commands.startRun({ job: "undo", run: s.run, force: false }, ch))}>
              Undo import
            </button>
            <button onClick={() => setConfirmUndo(false)}>Keep it</button>
          </div>
        </div>
      )}
      <JobProgress />
      <ErrorBox error={problem} onDismiss={() => setProblem(null)} />
      {s.failed > 0 && rejected.data && rejected.data.rows.length > 0 && kind !== "flow" && <Rejected rows={rejected.data} />}
      {outcomes.data && <Outcomes rows={outcomes.data} />}
    </section>
  );
}

/** A flow run's records, each through each node: status, error, time. */
function Outcomes({ rows }: { rows: ResultRows }) {
  const col = (name: string) => rows.header.indexOf(name);
  const [id, stamp, node, status, error, ms] = ["Id", "SystemModstamp", "node", "status", "error", "duration_ms"].map(col);
  return (
    <div className="table-wrap">
      <table className="data" aria-label="Per-record outcomes">
        <thead>
          <tr>
            <th>Record</th>
            <th>Change (SystemModstamp)</th>
            <th>Node</th>
            <th>Outcome</th>
            <th className="num">ms</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {rows.rows.map((r, i) => (
            <tr key={i}>
              <td className="mono">{r[id]}</td>
              <td className="mono">{r[stamp]}</td>
              <td className="mono">{r[node]}</td>
              <td className={"outcome-" + r[status]}>{r[status]}</td>
              <td className="num">{r[ms]}</td>
              <td className="bad">{r[error]}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.more && <p className="muted small">The first {rows.rows.length} are shown; the rest are in {rows.path}.</p>}
    </div>
  );
}
