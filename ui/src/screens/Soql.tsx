import { useReducer, useRef, useState } from "react";
import { Channel } from "@tauri-apps/api/core";
import { save } from "@tauri-apps/plugin-dialog";
import { commands, type GridPage } from "../bindings";
import { unwrap } from "../lib/api";
import { fileName, startJob } from "../lib/jobs";
import { JobProgress } from "../components/JobProgress";
import { fromObject } from "../lib/complete";
import { completion } from "../lib/queryRun";
import { useDescribe, useObjects } from "../lib/schema";
import { ErrorBox } from "../components/ErrorBox";
import { ConnectionPicker } from "../components/ConnectionPicker";
import { RecordGrid } from "../components/RecordGrid";
import { SoqlEditor } from "../components/SoqlEditor";
import { useConnectionChoice } from "../lib/connections";

interface RunState {
  running: boolean;
  total: number;
  millis: number | null;
  error: unknown;
}

export default function Soql() {
  const [connection, setConnection] = useConnectionChoice();
  const [soql, setSoql] = useState("SELECT Id, Name FROM Account ORDER BY Name LIMIT 200");
  const [includeDeleted, setIncludeDeleted] = useState(false);
  const [columns, setColumns] = useState<string[]>([]);
  const rows = useRef<string[][]>([]);
  // Rows grow in place; this re-renders the grid when a page arrives.
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const [run, setRun] = useState<RunState>({ running: false, total: 0, millis: null, error: null });
  const [exported, setExported] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const runId = useRef(0);

  const objects = useObjects(connection);
  const objectNames = (objects.data ?? []).map((o) => o.name);
  const from = fromObject(soql);
  const fromKnown = objectNames.find((n) => n.toLowerCase() === from?.toLowerCase());
  const fields = useDescribe(connection, fromKnown);

  const start = async () => {
    if (!connection || run.running) return;
    const id = ++runId.current;
    rows.current = [];
    setColumns([]);
    rerender();
    setExported(null);
    setRun({ running: true, total: 0, millis: null, error: null });
    const finish = completion((summary) => {
      if (id === runId.current) setRun((s) => ({ ...s, running: false, millis: summary.millis }));
    });
    const pages = new Channel<GridPage>();
    pages.onmessage = (page) => {
      if (id !== runId.current) return;
      if (page.columns) setColumns(page.columns);
      for (const r of page.rows) rows.current.push(r);
      rerender();
      setRun((s) => ({ ...s, total: page.total_size }));
      finish.pageArrived();
    };
    try {
      finish.commandReturned(await unwrap(commands.runQuery(connection, soql, includeDeleted, pages)));
    } catch (error) {
      if (id === runId.current) setRun((s) => ({ ...s, running: false, error }));
    }
  };

  const exportCsv = async () => {
    setExportError(null);
    try {
      const path = await save({ title: "Export rows as CSV", defaultPath: `${from ?? "query"}.csv`, filters: [{ name: "CSV", extensions: ["csv"] }] });
      if (!path) return;
      const summary = await startJob(`Exporting to ${fileName(path)}`, (ch) => commands.startExport(connection, soql, includeDeleted, path, ch));
      if (summary.status === "completed") setExported(`Exported ${summary.rows.toLocaleString()} rows to ${path}`);
      else setExported(`The export stopped (${summary.status}); no file was written.`);
    } catch (e) {
      setExportError(e);
    }
  };

  const received = rows.current.length;
  return (
    <section className="screen soql">
      <header className="screen-head">
        <h2>SOQL</h2>
        <ConnectionPicker value={connection} onChange={setConnection} />
      </header>
      <SoqlEditor value={soql} onChange={setSoql} onRun={start} objects={objectNames} fields={(fields.data?.fields ?? []).map((f) => f.name)} />
      <div className="toolbar">
        <button className="primary" onClick={start} disabled={!connection || run.running}>
          {run.running ? "Running…" : "Run"}
        </button>
        <label className="inline">
          <input type="checkbox" checked={includeDeleted} onChange={(e) => setIncludeDeleted(e.target.checked)} /> Include deleted
        </label>
        <button onClick={exportCsv} disabled={!connection || run.running || received === 0}>
          Export CSV…
        </button>
        <span className="muted small" data-testid="query-status">
          {run.running && `${received.toLocaleString()} of ${run.total.toLocaleString()} rows…`}
          {!run.running && run.millis != null && `${received.toLocaleString()} rows in ${run.millis < 1000 ? `${run.millis} ms` : `${(run.millis / 1000).toFixed(2)} s`}`}
        </span>
        <span className="muted small">Ctrl+Enter runs · Ctrl+Space completes</span>
      </div>
      <JobProgress />
      <ErrorBox error={run.error ?? exportError ?? objects.error} />
      {exported && (
        <div className="notice" role="status" data-testid="export-notice">
          {exported}
        </div>
      )}
      {columns.length > 0 && <RecordGrid columns={columns} rows={rows.current} />}
    </section>
  );
}
