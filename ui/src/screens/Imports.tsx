import { useEffect, useMemo, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { open, save } from "@tauri-apps/plugin-dialog";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import {
  commands,
  type Api,
  type DateFormat,
  type DelimiterChoice,
  type EncodingChoice,
  type ImportSpec,
  type Operation,
  type ResultRows,
  type RunSummary,
} from "../bindings";
import { unwrap } from "../lib/api";
import { useConnectionChoice } from "../lib/connections";
import { useObjects } from "../lib/schema";
import { clearJob, fileName, jobRunning, startJob, useJob } from "../lib/jobs";
import { constantsOf, duplicates, fromProposal, toMapFile, unmapped, type Constant, type MappedColumn } from "../lib/mapping";
import { ConnectionPicker } from "../components/ConnectionPicker";
import { ErrorBox } from "../components/ErrorBox";
import { JobProgress } from "../components/JobProgress";
import { ResultPanel } from "../components/ResultPanel";
import { useRuns } from "../lib/runs";
import { useReveal } from "../lib/reveal";

const OPERATIONS: { id: Operation; label: string; warn?: string }[] = [
  { id: "insert", label: "Insert: create a record per row" },
  { id: "update", label: "Update: change records found by Id" },
  { id: "upsert", label: "Upsert: update by a key, create when not found" },
  { id: "delete", label: "Delete: to the recycle bin, by Id", warn: "Deleted records go to the recycle bin, which Salesforce empties after 15 days; Undo can bring them back until then." },
  { id: "hard-delete", label: "Hard delete: skip the recycle bin, by Id", warn: "Hard-deleted records skip the recycle bin: no Undo can bring them back." },
];

const ENCODINGS: { id: EncodingChoice; label: string }[] = [
  { id: "Auto", label: "Detect" },
  { id: "Utf8", label: "UTF-8" },
  { id: "Windows1252", label: "Windows-1252 (Latin-1)" },
  { id: "Utf16", label: "UTF-16" },
];

const DELIMITERS: { id: DelimiterChoice; label: string }[] = [
  { id: "Auto", label: "Detect" },
  { id: "Comma", label: "Comma ," },
  { id: "Semicolon", label: "Semicolon ;" },
  { id: "Tab", label: "Tab" },
  { id: "Pipe", label: "Pipe |" },
];

const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** A step's heading with its number, greyed until the steps before are done. */
function Step({ n, title, ready, children }: { n: number; title: string; ready: boolean; children: React.ReactNode }) {
  return (
    <section className={"panel step" + (ready ? "" : " step-waiting")} aria-label={title} data-step={n}>
      <h3>
        <span className="step-n">{n}</span> {title}
      </h3>
      {ready ? children : <p className="muted small">Complete the step above first.</p>}
    </section>
  );
}

export default function Imports() {
  const queryClient = useQueryClient();
  const job = useJob();
  const busy = jobRunning(job);

  // 1. The file.
  const [pathInput, setPathInput] = useState("");
  const [path, setPath] = useState("");
  const [encoding, setEncoding] = useState<EncodingChoice>("Auto");
  const [delimiter, setDelimiter] = useState<DelimiterChoice>("Auto");
  const preview = useQuery({
    queryKey: ["preview", path, encoding, delimiter],
    queryFn: () => unwrap(commands.previewImportFile(path, encoding, delimiter)),
    enabled: !!path,
    retry: false,
    staleTime: Infinity,
  });
  const choose = (p: string) => {
    setPathInput(p);
    setPath(p.trim());
  };
  useEffect(() => {
    // A CSV dropped anywhere on the window is the file to import.
    const off = getCurrentWebview().onDragDropEvent((e) => {
      if (e.payload.type === "drop" && e.payload.paths.length > 0) choose(e.payload.paths[0]);
    });
    return () => {
      off.then((f) => f());
    };
  }, []);
  const browse = async () => {
    const picked = await open({ title: "Choose a CSV file to import", multiple: false, directory: false, filters: [{ name: "CSV", extensions: ["csv", "txt", "tsv"] }] });
    if (typeof picked === "string") choose(picked);
  };

  // 2. Where it goes.
  const [connection, setConnection] = useConnectionChoice();
  const objects = useObjects(connection);
  const [object, setObject] = useState("");
  const objectKnown = (objects.data ?? []).find((o) => o.name.toLowerCase() === object.trim().toLowerCase())?.name;
  const [operation, setOperation] = useState<Operation>("insert");
  const [externalId, setExternalId] = useState("");
  const [api, setApi] = useState<Api>("Auto");
  const [dateFormat, setDateFormat] = useState<DateFormat>("Iso");
  const [timeZone, setTimeZone] = useState(localZone);
  const [insertNulls, setInsertNulls] = useState(false);
  const [onlyChanged, setOnlyChanged] = useState(false);
  const [nullMissingParents, setNullMissingParents] = useState(false);

  // 3. The mapping: the proposal, then the user's edits of it.
  const header = preview.data?.header ?? [];
  const proposalKey = JSON.stringify([connection, objectKnown, operation, header]);
  const proposal = useQuery({
    queryKey: ["mapping", connection, objectKnown, operation, header],
    queryFn: () => unwrap(commands.proposeMapping(connection, objectKnown!, operation, header, null)),
    enabled: !!connection && !!objectKnown && header.length > 0,
    retry: false,
  });
  const [edits, setEdits] = useState<{ key: string; columns: MappedColumn[]; constants: Constant[] } | null>(null);
  const columns: MappedColumn[] = edits?.key === proposalKey ? edits.columns : fromProposal(proposal.data?.columns ?? []);
  const constants: Constant[] = edits?.key === proposalKey ? edits.constants : [];
  const edit = (cols: MappedColumn[], consts: Constant[]) => setEdits({ key: proposalKey, columns: cols, constants: consts });
  const setField = (i: number, field: string) => edit(columns.map((c, j) => (j === i ? { ...c, field, how: field.trim() ? "manual" : "none" } : c)), constants);
  const [mappingNote, setMappingNote] = useState<string | null>(null);
  const [mappingError, setMappingError] = useState<unknown>(null);
  const loadMapping = async () => {
    setMappingError(null);
    try {
      const file = await open({ title: "Load a mapping file", multiple: false, directory: false, filters: [{ name: "Mapping", extensions: ["json"] }] });
      if (typeof file !== "string" || !objectKnown) return;
      const saved = await unwrap(commands.loadMapping(file));
      const p = await unwrap(commands.proposeMapping(connection, objectKnown, operation, header, saved));
      edit(fromProposal(p.columns), constantsOf(saved));
      setMappingNote(`Loaded ${file}`);
    } catch (e) {
      setMappingError(e);
    }
  };
  const saveMapping = async () => {
    setMappingError(null);
    try {
      const file = await save({ title: "Save the mapping", defaultPath: `${objectKnown ?? "mapping"}-mapping.json`, filters: [{ name: "Mapping", extensions: ["json"] }] });
      if (!file) return;
      await unwrap(commands.saveMapping(file, toMapFile(columns, constants)));
      setMappingNote(`Saved ${file}; use it with syncstudio import --map too`);
    } catch (e) {
      setMappingError(e);
    }
  };
  const fields = proposal.data?.fields ?? [];
  const lookupHints = fields.filter((f) => f.relationship).map((f) => `${f.relationship}.`);
  const notImported = unmapped(columns);
  const twice = duplicates(columns, constants);

  const spec: ImportSpec | null =
    path && objectKnown && connection && proposal.data
      ? {
          connection,
          object: objectKnown,
          operation,
          file: path,
          external_id: operation === "upsert" ? externalId || null : null,
          map: null,
          mapping: toMapFile(columns, constants),
          api,
          batch_size: 200,
          encoding,
          delimiter,
          date_format: dateFormat,
          time_zone: timeZone.trim() || "UTC",
          insert_nulls: insertNulls,
          dry_run: false,
          only_changed: onlyChanged,
          null_missing_parents: nullMissingParents,
          results: null,
          retry_of: null,
        }
      : null;
  const specKey = JSON.stringify(spec);
  const mappingReady = !!spec && (operation !== "upsert" || !!externalId) && twice.length === 0;

  // 4. Check (the dry run) and 5. Run.
  const [check, setCheck] = useState<{ key: string; summary: RunSummary; rejected: ResultRows | null } | null>(null);
  const [result, setResult] = useState<{ summary: RunSummary; kind: string } | null>(null);
  // Whether the finished run can be resumed is the engine's call (its RunRecord).
  const runs = useRuns(false);
  const resultRecord = result ? runs.data?.find((r) => r.summary.run === result.summary.run) : undefined;
  const [jobError, setJobError] = useState<unknown>(null);
  const [understood, setUnderstood] = useState(false);
  const checkCurrent = check?.key === specKey ? check : null;
  const checkRef = useReveal<HTMLDivElement>(checkCurrent?.summary.run);
  const runCheck = async () => {
    if (!spec) return;
    setJobError(null);
    try {
      const summary = await startJob(`Checking ${fileName(path)} against ${objectKnown}`, (ch) => commands.startRun({ job: "import", spec: { ...spec, dry_run: true } }, ch));
      const rejected = summary.failed > 0 ? await unwrap(commands.resultRows(summary.run, "error", 50)) : null;
      setCheck({ key: specKey, summary, rejected });
    } catch (e) {
      setJobError(e);
    }
  };
  const runImport = async () => {
    if (!spec) return;
    setJobError(null);
    try {
      const summary = await startJob(`Importing ${fileName(path)} into ${objectKnown}`, (ch) => commands.startRun({ job: "import", spec }, ch));
      setResult({ summary, kind: "import" });
    } catch (e) {
      setJobError(e);
    } finally {
      queryClient.invalidateQueries({ queryKey: ["runs"] });
    }
  };
  const startOver = () => {
    setResult(null);
    setCheck(null);
    setPath("");
    setPathInput("");
    setEdits(null);
    setUnderstood(false);
    clearJob();
  };
  const opWarn = OPERATIONS.find((o) => o.id === operation)?.warn;
  const needsUnderstood = operation === "hard-delete";

  if (result) {
    return (
      <div className="screen imports">
        <div className="screen-head">
          <h2>{result.kind === "undo" ? "Undo finished" : "Import finished"}</h2>
          <button onClick={startOver}>New import</button>
        </div>
        <ResultPanel key={result.summary.run} summary={result.summary} kind={result.kind} resumable={resultRecord?.resumable ?? false} onChanged={(summary, kind) => setResult({ summary, kind })} />
      </div>
    );
  }

  return (
    <div className="screen imports">
      <div className="screen-head">
        <h2>New import</h2>
        <span className="muted small">A CSV file into one object. Check it first: nothing is written until you run it, and every import can be undone.</span>
      </div>
      <Step n={1} title="File" ready>
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            choose(pathInput);
          }}
        >
          <button type="button" className={path ? "" : "primary"} onClick={() => void browse()}>
            Choose file…
          </button>
          <input aria-label="CSV file path" className="grow mono" placeholder="or drop a CSV here, or type its path and press Enter" value={pathInput} onChange={(e) => setPathInput(e.target.value)} />
          <button type="submit" disabled={!pathInput.trim()}>
            Read
          </button>
          {path && (
            <button type="button" onClick={() => void preview.refetch()} title="Read the file again after editing it">
              Read again
            </button>
          )}
        </form>
        {preview.isFetching && <p className="muted small">Reading {path}…</p>}
        <ErrorBox error={preview.error} />
        {preview.data && (
          <>
            <div className="toolbar small">
              <label className="inline">
                Encoding{" "}
                <select aria-label="Encoding" value={encoding} onChange={(e) => setEncoding(e.target.value as EncodingChoice)}>
                  {ENCODINGS.map((x) => (
                    <option key={x.id} value={x.id}>
                      {x.id === "Auto" ? `Detect (${preview.data.encoding})` : x.label}
                    </option>
                  ))}
                </select>
              </label>
              <label className="inline">
                Delimiter{" "}
                <select aria-label="Delimiter" value={delimiter} onChange={(e) => setDelimiter(e.target.value as DelimiterChoice)}>
                  {DELIMITERS.map((x) => (
                    <option key={x.id} value={x.id}>
                      {x.id === "Auto" ? `Detect (${DELIMITERS.find((d) => d.id === preview.data.delimiter)?.label})` : x.label}
                    </option>
                  ))}
                </select>
              </label>
              <span data-testid="row-count">
                {preview.data.total_rows.toLocaleString()} rows, {preview.data.header.length} columns
              </span>
              {preview.data.unreadable_rows > 0 && <span className="bad">{preview.data.unreadable_rows.toLocaleString()} rows cannot be read (they will be in the error file)</span>}
              <span className="muted">Text looks garbled? Choose another encoding.</span>
            </div>
            <div className="table-wrap preview">
              <table className="data">
                <thead>
                  <tr>
                    <th className="num">Line</th>
                    {preview.data.header.map((h) => (
                      <th key={h}>{h}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {preview.data.rows.map((r) => (
                    <tr key={r.line} className={r.problem ? "bad-row" : ""} title={r.problem ?? undefined}>
                      <td className="num">{r.line}</td>
                      {r.problem ? (
                        <td colSpan={preview.data.header.length} className="bad">
                          {r.problem}
                        </td>
                      ) : (
                        preview.data.header.map((h, i) => <td key={h}>{r.cells[i] ?? ""}</td>)
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Step>

      <Step n={2} title="Where it goes" ready={!!preview.data}>
        <div className="toolbar">
          <ConnectionPicker value={connection} onChange={setConnection} />
          <label className="inline">
            Object{" "}
            <input aria-label="Object" list="import-objects" placeholder="Search objects…" value={object} onChange={(e) => setObject(e.target.value)} />
            <datalist id="import-objects">
              {(objects.data ?? []).map((o) => (
                <option key={o.name} value={o.name}>
                  {o.label}
                </option>
              ))}
            </datalist>
          </label>
          {object && !objectKnown && objects.isSuccess && <span className="bad small">No object {object} in this org</span>}
          <label className="inline">
            Operation{" "}
            <select aria-label="Operation" value={operation} onChange={(e) => setOperation(e.target.value as Operation)}>
              {OPERATIONS.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          {operation === "upsert" && (
            <label className="inline">
              Match by{" "}
              <select aria-label="Match by" value={externalId} onChange={(e) => setExternalId(e.target.value)}>
                <option value="">Choose a key…</option>
                {(proposal.data?.external_ids ?? []).map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
        <ErrorBox error={objects.error} />
        {opWarn && <p className="notice small">{opWarn}</p>}
        <details className="small">
          <summary>Options: dates, time zone, empty cells, API</summary>
          <div className="toolbar">
            <label className="inline">
              Dates written as{" "}
              <select aria-label="Date format" value={dateFormat} onChange={(e) => setDateFormat(e.target.value as DateFormat)}>
                <option value="Iso">2026-03-31 (ISO)</option>
                <option value="Dmy">31/03/2026 (day first)</option>
                <option value="Mdy">03/31/2026 (month first)</option>
              </select>
            </label>
            <label className="inline">
              Time zone of date-times{" "}
              <input aria-label="Time zone" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} />
            </label>
            <label className="inline">
              <input type="checkbox" checked={insertNulls} onChange={(e) => setInsertNulls(e.target.checked)} /> Empty cells clear the field
            </label>
            <label className="inline">
              <input type="checkbox" checked={onlyChanged} onChange={(e) => setOnlyChanged(e.target.checked)} /> Skip rows that change nothing
            </label>
            <label className="inline" title="A column such as Account.ERP_Id__c names a parent by its external id">
              <input type="checkbox" checked={nullMissingParents} onChange={(e) => setNullMissingParents(e.target.checked)} /> Parent not found: leave the lookup empty (instead of rejecting the row)
            </label>
            <label className="inline">
              API{" "}
              <select aria-label="API" value={api} onChange={(e) => setApi(e.target.value as Api)}>
                <option value="Auto">Choose by size</option>
                <option value="Rest">REST (collections of 200)</option>
                <option value="Bulk">Bulk API 2.0</option>
              </select>
            </label>
          </div>
        </details>
      </Step>

      <Step n={3} title="Columns to fields" ready={!!preview.data && !!objectKnown}>
        {proposal.isFetching && <p className="muted small">Reading {objectKnown}'s fields…</p>}
        <ErrorBox error={proposal.error} />
        {proposal.data && (
          <>
            <div className="toolbar small">
              <button onClick={() => edit(fromProposal(proposal.data.columns), constants)}>Auto-match</button>
              <button onClick={() => edit(columns.map((c) => ({ ...c, field: "", how: "none" })), constants)}>Clear mapping</button>
              <button onClick={() => void loadMapping()}>Load mapping…</button>
              <button onClick={() => void saveMapping()}>Save mapping…</button>
              {mappingNote && <span className="muted">{mappingNote}</span>}
            </div>
            <ErrorBox error={mappingError} onDismiss={() => setMappingError(null)} />
            <datalist id="import-fields">
              {fields.map((f) => (
                <option key={f.name} value={f.name}>
                  {`${f.label} (${f.type}${f.required ? ", required" : ""})`}
                </option>
              ))}
              {lookupHints.map((h) => (
                <option key={h} value={h}>
                  parent lookup: type the parent's external id field after the dot
                </option>
              ))}
            </datalist>
            <div className="table-wrap">
              <table className="data mapping">
                <thead>
                  <tr>
                    <th>CSV column</th>
                    <th>First value</th>
                    <th>Field</th>
                    <th>How</th>
                  </tr>
                </thead>
                <tbody>
                  {columns.map((c, i) => (
                    <tr key={c.header} className={c.field ? "" : "unmapped"} data-column={c.header}>
                      <td>{c.header}</td>
                      <td className="muted clip">{preview.data?.rows.find((r) => !r.problem)?.cells[i] ?? ""}</td>
                      <td>
                        <input aria-label={`Field for ${c.header}`} list="import-fields" placeholder="Not imported" value={c.field} onChange={(e) => setField(i, e.target.value)} />
                      </td>
                      <td className="small">
                        {c.how === "auto" && <span className="badge ok">matched by name</span>}
                        {c.how === "saved" && <span className="badge">from mapping file</span>}
                        {c.how === "manual" && <span className="badge">chosen</span>}
                        {c.how === "none" && <span className="badge warn">not imported</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="constants small">
              <span>
                <strong>Constants</strong> <span className="muted">(the same value on every record)</span>
              </span>
              {constants.map((k, i) => (
                <div className="toolbar" key={i}>
                  <input aria-label="Constant field" list="import-fields" placeholder="Field" value={k.field} onChange={(e) => edit(columns, constants.map((x, j) => (j === i ? { ...x, field: e.target.value } : x)))} />
                  <input aria-label="Constant value" placeholder="Value" value={k.value} onChange={(e) => edit(columns, constants.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
                  <button className="link" onClick={() => edit(columns, constants.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                </div>
              ))}
              <button className="link" onClick={() => edit(columns, [...constants, { field: "", value: "" }])}>
                Add a constant
              </button>
            </div>
            {notImported.length > 0 && (
              <p className="notice small" data-testid="not-imported">
                Not imported: {notImported.join(", ")}. Choose a field for {notImported.length === 1 ? "it" : "them"}, or leave {notImported.length === 1 ? "it" : "them"} out; {notImported.length === 1 ? "it stays" : "they stay"} in the result files.
              </p>
            )}
            {twice.length > 0 && <p className="bad small">Set by more than one column or constant: {twice.join(", ")}.</p>}
            {operation === "upsert" && !externalId && <p className="bad small">Choose the key to match records by (step 2).</p>}
          </>
        )}
      </Step>

      <Step n={4} title="Check and run" ready={mappingReady}>
        <div className="toolbar">
          <button className={checkCurrent ? "" : "primary"} onClick={() => void runCheck()} disabled={busy}>
            Check
          </button>
          <span className="muted small">Reads the org, writes nothing: what each row will do, and the API calls it will use.</span>
        </div>
        {check && !checkCurrent && <p className="notice small">The file, object or mapping changed since the check: check again.</p>}
        {checkCurrent && (
          <div ref={checkRef} className="check" aria-label="Check result" data-testid="check">
            <div className="counts">
              {operation === "delete" || operation === "hard-delete" ? (
                <span className="count">
                  <b>{checkCurrent.summary.deleted.toLocaleString()}</b> will be deleted
                </span>
              ) : (
                <>
                  <span className="count">
                    <b data-testid="will-create">{checkCurrent.summary.created.toLocaleString()}</b> will be created
                  </span>
                  <span className="count">
                    <b data-testid="will-update">{checkCurrent.summary.updated.toLocaleString()}</b> will be updated
                  </span>
                  <span className="count">
                    <b>{checkCurrent.summary.unchanged.toLocaleString()}</b> already match
                  </span>
                </>
              )}
              <span className={"count" + (checkCurrent.summary.failed ? " bad" : "")}>
                <b data-testid="will-reject">{checkCurrent.summary.failed.toLocaleString()}</b> rejected
              </span>
              {checkCurrent.summary.forecast_api_calls != null && (
                <span className="count" title="The calls the import will make. Over Bulk API 2.0 a busy org adds a status poll or two per job.">
                  <b>{checkCurrent.summary.forecast_api_calls.toLocaleString()}</b> API calls
                  {checkCurrent.summary.api_calls_left != null && ` of ${checkCurrent.summary.api_calls_left.toLocaleString()} left today`}
                </span>
              )}
            </div>
            {checkCurrent.rejected && <Rejected rows={checkCurrent.rejected} />}
          </div>
        )}
        <div className="toolbar">
          {needsUnderstood && (
            <label className="inline small bad">
              <input type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} /> I understand hard-deleted records cannot be restored
            </label>
          )}
          <button className={checkCurrent ? "primary" : ""} onClick={() => void runImport()} disabled={busy || (needsUnderstood && !understood)}>
            {checkCurrent ? "Run import" : "Run without checking"}
          </button>
          <span className="muted small">Cancel stops safely after the requests in flight; Resume finishes it later.</span>
        </div>
        <JobProgress />
        <ErrorBox error={jobError} onDismiss={() => setJobError(null)} />
      </Step>
    </div>
  );
}

/** A result file's first rows, its reason column first. */
export function Rejected({ rows }: { rows: ResultRows }) {
  const reason = rows.header.indexOf("sf__Error");
  const line = rows.header.indexOf("sf__Row");
  const shown = useMemo(() => rows.header.map((h, i) => [h, i] as const).filter(([h]) => !h.startsWith("sf__")), [rows.header]);
  return (
    <div className="table-wrap rejected">
      <table className="data" aria-label="Rejected rows">
        <thead>
          <tr>
            <th className="num">Line</th>
            <th>Reason</th>
            {shown.map(([h]) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.rows.map((r, i) => (
            <tr key={i}>
              <td className="num">{line >= 0 ? r[line] : ""}</td>
              <td className="bad">{reason >= 0 ? r[reason] : ""}</td>
              {shown.map(([h, j]) => (
                <td key={h}>{r[j] ?? ""}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.more && <p className="muted small">The first {rows.rows.length} are shown; the rest are in {rows.path}.</p>}
    </div>
  );
}
