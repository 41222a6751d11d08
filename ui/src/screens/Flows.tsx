import { useEffect, useMemo, useReducer, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ReactFlowProvider } from "@xyflow/react";
import { open, save } from "@tauri-apps/plugin-dialog";
import { commands, events, type FlowOverview, type FlowTest, type Json } from "../bindings";
import { unwrap } from "../lib/api";
import { useRuns } from "../lib/runs";
import { useConnections } from "../lib/connections";
import {
  addNode,
  connect,
  disconnect,
  draftText,
  emptyDraft,
  history,
  isStart,
  NODE_KINDS,
  parseDraft,
  removeNodes,
  renameNode,
  setParams,
  templateNames,
  upstream,
  type Draft,
} from "../lib/flows";
import { ErrorBox } from "../components/ErrorBox";
import { FlowCanvas, PALETTE_DRAG } from "../components/flows/FlowCanvas";
import { FlowHistory } from "../components/flows/FlowHistory";
import { NodeProperties } from "../components/flows/NodeProperties";
import { STATUS_LABEL } from "../components/ResultPanel";

/** What the editor has open: a saved flow (by the name it was saved
 * under) or a new one. */
type Editing = { saved: string | null; draft: Draft };

export default function Flows({ openRun }: { openRun: (run: string) => void }) {
  const [editing, setEditing] = useState<Editing | null>(null);
  const client = useQueryClient();
  useEffect(() => {
    // The app's runner polled: the list's last and next runs move on.
    const off = events.flowsChanged.listen(() => {
      client.invalidateQueries({ queryKey: ["flows"] });
      client.invalidateQueries({ queryKey: ["runs"] });
    });
    return () => {
      off.then((f) => f());
    };
  }, [client]);
  if (editing) {
    return (
      <ReactFlowProvider>
        <FlowEditor key={editing.saved ?? "new"} start={editing} close={() => setEditing(null)} openRun={openRun} />
      </ReactFlowProvider>
    );
  }
  return <FlowList open={setEditing} />;
}

function useFlows() {
  return useQuery({ queryKey: ["flows"], queryFn: () => unwrap(commands.listFlows()), refetchInterval: 5000 });
}

function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = new Date(iso);
  const today = new Date().toDateString() === t.toDateString();
  return today ? t.toLocaleTimeString() : t.toLocaleString();
}

function FlowList({ open: openEditor }: { open: (e: Editing) => void }) {
  const flows = useFlows();
  const client = useQueryClient();
  const [problem, setProblem] = useState<unknown>(null);
  const toggle = useMutation({
    mutationFn: (f: FlowOverview) => unwrap(commands.setFlowEnabled(f.info.name, !f.info.enabled)),
    onSuccess: () => client.invalidateQueries({ queryKey: ["flows"] }),
  });
  const openSaved = async (name: string) => {
    try {
      const text = await unwrap(commands.getFlow(name));
      openEditor({ saved: name, draft: parseDraft(text) });
    } catch (e) {
      setProblem(e);
    }
  };
  const importFile = async () => {
    setProblem(null);
    try {
      const path = await open({ title: "Import a flow file", multiple: false, directory: false, filters: [{ name: "Flow", extensions: ["json"] }] });
      if (typeof path !== "string") return;
      const draft = parseDraft(await unwrap(commands.readFlowFile(path)));
      openEditor({ saved: null, draft });
    } catch (e) {
      setProblem(e);
    }
  };
  const list = flows.data ?? [];
  return (
    <section className="screen flows">
      <header className="screen-head">
        <h2>Flows</h2>
        <div className="actions">
          <button onClick={importFile}>Import…</button>
          <button className="primary" onClick={() => openEditor({ saved: null, draft: emptyDraft() })}>
            New flow
          </button>
        </div>
      </header>
      <ErrorBox error={problem ?? flows.error ?? toggle.error} onDismiss={problem ? () => setProblem(null) : undefined} />
      {flows.isSuccess && list.length === 0 && (
        <div className="panel empty">
          <p>
            <strong>No flows yet.</strong> A flow watches Salesforce (records created, updated, deleted or restored) or runs on a schedule, and
            takes each change through steps: filters, branches, Salesforce writes, HTTP calls, CSV files.
          </p>
          <p>Enabled flows run while Sync Studio is open, and from the tray when its window is closed.</p>
        </div>
      )}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="data" aria-label="Flows">
            <thead>
              <tr>
                <th>Flow</th>
                <th>Starts on</th>
                <th>Enabled</th>
                <th>Last run</th>
                <th>Next run</th>
                <th className="num">Errors today</th>
              </tr>
            </thead>
            <tbody>
              {list.map((f) => (
                <tr key={f.info.name} data-flow={f.info.name}>
                  <td>
                    <button className="link" onClick={() => openSaved(f.info.name)} aria-label={`Open flow ${f.info.name}`}>
                      {f.info.name}
                    </button>
                  </td>
                  <td className="clip" title={f.info.start}>
                    {f.info.start}
                  </td>
                  <td>
                    <label className="switch" title={f.info.enabled ? "Runs while the app is open or in the tray" : "Does not run"}>
                      <input
                        type="checkbox"
                        role="switch"
                        aria-label={`Enable ${f.info.name}`}
                        checked={f.info.enabled}
                        disabled={toggle.isPending}
                        onChange={() => toggle.mutate(f)}
                      />
                      {f.info.enabled ? "on" : "off"}
                    </label>
                  </td>
                  <td>
                    {f.last_run ? (
                      <>
                        {when(f.last_run.started_at)}{" "}
                        <span className={"small status-" + f.last_run.summary.status}>{STATUS_LABEL[f.last_run.summary.status]}</span>
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td title={f.runner ? `Run by ${f.runner.holder}` : undefined}>
                    {f.info.enabled ? (f.runner ? when(f.runner.next_at) : "starting…") : "—"}
                  </td>
                  <td className={"num" + (f.errors_today ? " bad" : "")}>{f.errors_today}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const GROUPS = ["Start", "Steps", "Salesforce", "Other"] as const;
type Tab = "problems" | "test" | "history";

function FlowEditor({ start, close, openRun }: { start: Editing; close: () => void; openRun: (run: string) => void }) {
  const client = useQueryClient();
  const [h, dispatch] = useReducer(history, { past: [], present: start.draft, future: [] });
  const draft = h.present;
  const [savedAs, setSavedAs] = useState<string | null>(start.saved);
  const [savedText, setSavedText] = useState<string | null>(start.saved ? draftText(start.draft) : null);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>("problems");
  const [tested, setTested] = useState<{ text: string; result: FlowTest } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const text = useMemo(() => draftText(draft), [draft]);
  const dirty = text !== savedText;
  const commit = (d: Draft) => dispatch({ type: "commit", draft: d });

  // Problems, checked a moment after the last edit (the org's side too).
  const [checkedText, setCheckedText] = useState(text);
  useEffect(() => {
    const t = setTimeout(() => setCheckedText(text), 500);
    return () => clearTimeout(t);
  }, [text]);
  const check = useQuery({
    queryKey: ["flow-check", checkedText],
    queryFn: () => unwrap(commands.checkFlow(checkedText)),
    enabled: draft.nodes.length > 0,
    placeholderData: (prev) => prev,
  });
  const problems = draft.nodes.length > 0 ? (check.data ?? []) : [];

  const flows = useFlows();
  const info = flows.data?.find((f) => f.info.name === savedAs) ?? null;
  const runs = useRuns(false);
  const myRuns = (runs.data ?? []).filter((r) => r.flow === savedAs);

  const saveFlow = useMutation({
    mutationFn: () => unwrap(commands.saveFlow(text)),
    onSuccess: (saved) => {
      setSavedAs(saved.name);
      setSavedText(text);
      setNote(`Saved "${saved.name}".`);
      client.invalidateQueries({ queryKey: ["flows"] });
    },
    onError: () => setTab("problems"),
  });
  const test = useMutation({
    mutationFn: () => unwrap(commands.testFlow(text)),
    onSuccess: (result) => {
      setTested({ text, result });
      setTab("test");
    },
  });
  const enable = useMutation({
    mutationFn: (on: boolean) => unwrap(commands.setFlowEnabled(savedAs!, on)),
    onSuccess: () => client.invalidateQueries({ queryKey: ["flows"] }),
  });
  const runNow = useMutation({
    mutationFn: () => unwrap(commands.runFlowNow(savedAs!)),
    onSuccess: (s) => {
      setNote(s ? `Run ${s.run}: ${s.rows} records, ${s.failed} failed.` : "Nothing changed since the last poll.");
      setTab("history");
      client.invalidateQueries({ queryKey: ["runs"] });
      client.invalidateQueries({ queryKey: ["flows"] });
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(commands.deleteFlow(savedAs!)),
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["flows"] });
      close();
    },
  });
  const askRemove = () => {
    if (window.confirm(`Delete the flow "${savedAs}"? It stops running; its runs stay on the Runs screen. Export it first to keep its file.`)) remove.mutate();
  };
  const exportFile = async () => {
    const path = await save({ title: "Export the flow file", defaultPath: `${draft.name}.json`, filters: [{ name: "Flow", extensions: ["json"] }] });
    if (!path) return;
    await unwrap(commands.writeFlowFile(path, text));
    setNote(`Exported to ${path}.`);
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      if (e.key === "s") {
        e.preventDefault();
        saveFlow.mutate();
      } else if (e.key === "Enter") {
        e.preventDefault();
        test.mutate();
      } else if (!typing && e.key.toLowerCase() === "z") {
        e.preventDefault();
        dispatch({ type: e.shiftKey ? "redo" : "undo" });
      } else if (!typing && e.key === "y") {
        e.preventDefault();
        dispatch({ type: "redo" });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [saveFlow, test]);

  const connections = useConnections();
  const add = (type: string, at?: { x: number; y: number }) => {
    const [added, id] = addNode(draft, type, selected, at);
    let next = added;
    // A new Salesforce node talks to the flow's org, or the only one.
    const node = next.nodes.find((n) => n.id === id)!;
    const used = draft.nodes.map((n) => n.params.connection).find((c) => typeof c === "string" && c);
    const only = connections.data?.length === 1 ? connections.data[0].name : undefined;
    if (node.params.connection === "" && (used || only)) next = setParams(next, id, { ...node.params, connection: (used || only)! });
    commit(next);
    setSelected(id);
  };
  const outputs: { [node: string]: Json } = {};
  for (const o of tested?.result.nodes ?? []) outputs[o.node] = o.output;
  const node = draft.nodes.find((n) => n.id === selected) ?? null;
  const outcome = tested?.result.nodes.find((o) => o.node === selected) ?? null;
  const input: Json | null = node && tested ? { record: tested.result.record ?? null, nodes: Object.fromEntries(upstream(draft, node.id).filter((u) => u in outputs).map((u) => [u, outputs[u]])) } : null;
  const hasStart = draft.nodes.some((n) => isStart(n.type));
  const leave = () => {
    if (dirty && !window.confirm("Leave without saving? The changes since the last save are lost.")) return;
    close();
  };

  return (
    <section className="screen flow-editor">
      <header className="flow-toolbar">
        <button onClick={leave} aria-label="Back to the flows">
          ← Flows
        </button>
        <input
          className="flow-name"
          aria-label="Flow name"
          value={draft.name}
          disabled={savedAs !== null}
          title={savedAs !== null ? "The name is the flow's handle in the CLI; export and import it to copy it under another name" : undefined}
          onChange={(e) => dispatch({ type: "replace", draft: { ...draft, name: e.target.value } })}
        />
        <span className={"small " + (dirty ? "warn" : "muted")} aria-live="polite">
          {dirty ? "unsaved" : "saved"}
        </span>
        <button onClick={() => dispatch({ type: "undo" })} disabled={h.past.length === 0} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button onClick={() => dispatch({ type: "redo" })} disabled={h.future.length === 0} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button onClick={() => test.mutate()} disabled={!hasStart || test.isPending} title="Runs the latest matching record through the flow; writes nothing (Ctrl+Enter)">
          {test.isPending ? "Testing…" : "Test"}
        </button>
        <button className="primary" onClick={() => saveFlow.mutate()} disabled={saveFlow.isPending || (!dirty && savedAs !== null)} title="Ctrl+S">
          Save
        </button>
        <label className="switch" title={savedAs === null ? "Save the flow first" : dirty ? "Save your changes first" : "Runs while the app is open or in the tray"}>
          <input
            type="checkbox"
            role="switch"
            aria-label="Enabled"
            checked={!!info?.info.enabled}
            disabled={savedAs === null || dirty || enable.isPending}
            onChange={(e) => enable.mutate(e.target.checked)}
          />
          Enabled
        </label>
        <button onClick={() => runNow.mutate()} disabled={savedAs === null || dirty || runNow.isPending} title="Poll once now (or run one tick)">
          Run now
        </button>
        <button onClick={() => exportFile().catch((e) => setNote(String(e)))}>Export…</button>
        {savedAs !== null && (
          <button className="danger" onClick={askRemove} disabled={remove.isPending}>
            Delete…
          </button>
        )}
      </header>
      <ErrorBox error={saveFlow.error ?? enable.error ?? runNow.error ?? test.error ?? remove.error} />
      {note && (
        <p className="note small" role="status">
          {note}{" "}
          <button className="link" onClick={() => setNote(null)}>
            Dismiss
          </button>
        </p>
      )}
      <div className="flow-body">
        <nav className="palette" aria-label="Node palette">
          {GROUPS.map((g) => (
            <div key={g} className="palette-group">
              <div className="palette-title small muted">{g}</div>
              {NODE_KINDS.filter((k) => k.group === g).map((k) => (
                <button
                  key={k.type}
                  className="palette-item"
                  draggable
                  data-palette={k.type}
                  title={`${k.what} Click to add after the selected node, or drag onto the canvas.`}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(PALETTE_DRAG, k.type);
                    e.dataTransfer.effectAllowed = "move";
                  }}
                  onClick={() => add(k.type)}
                >
                  {k.label}
                </button>
              ))}
            </div>
          ))}
        </nav>
        <div className="canvas-wrap">
          {draft.nodes.length === 0 && (
            <div className="canvas-empty">
              <p>
                <strong>Start with a trigger or a schedule</strong> from the palette, then add the steps after it.
              </p>
              <button className="primary" onClick={() => add("salesforce.trigger")}>
                Add a Salesforce trigger
              </button>
            </div>
          )}
          <FlowCanvas
            draft={draft}
            selected={selected}
            problems={problems}
            outcomes={tested?.result.nodes ?? []}
            onSelect={setSelected}
            onCommit={commit}
            onCheckpoint={() => dispatch({ type: "checkpoint" })}
            onReplace={(d) => dispatch({ type: "replace", draft: d })}
            onConnectNodes={(from, to, branch) => commit(connect(draft, from, to, branch))}
            onRemoveNodes={(ids) => {
              commit(removeNodes(draft, ids));
              setSelected(null);
            }}
            onRemoveEdges={(keys) => commit(disconnect(draft, keys))}
            onDropKind={(type, at) => add(type, at)}
          />
        </div>
        {node ? (
          <NodeProperties
            key={node.id}
            node={node}
            names={templateNames(draft, node.id, outputs)}
            problems={problems.filter((p) => p.node === node.id)}
            input={input}
            outcome={outcome}
            stale={!!tested && tested.text !== text}
            onParams={(p) => commit(setParams(draft, node.id, p))}
            onRename={(id) => {
              commit(renameNode(draft, node.id, id));
              setSelected(id);
            }}
            onDelete={() => {
              commit(removeNodes(draft, [node.id]));
              setSelected(null);
            }}
          />
        ) : (
          <aside className="props" aria-label="Node settings">
            <p className="muted">Select a node to set it up. Add nodes from the palette: a click adds one after the selected node, or drag one onto the canvas.</p>
            <p className="muted small">Draw an edge from a node's lower handle to the next node's upper one. Delete removes the selected node or edge.</p>
          </aside>
        )}
      </div>
      <div className="flow-panel">
        <div className="tabs" role="tablist">
          {(
            [
              ["problems", `Problems (${problems.length})`],
              ["test", "Test"],
              ["history", `Runs (${myRuns.length})`],
            ] as [Tab, string][]
          ).map(([id, label]) => (
            <button key={id} role="tab" aria-selected={tab === id} className={tab === id ? "current" : ""} onClick={() => setTab(id)}>
              {label}
            </button>
          ))}
        </div>
        <div className="tab-body">
          {tab === "problems" && (
            <>
              <ErrorBox error={check.error} />
              {problems.length === 0 && !check.error && <p className="muted small">{draft.nodes.length ? "No problems found: it can be saved." : "Nothing to check yet."}</p>}
              <ul className="problems" aria-label="Problems">
                {problems.map((p, i) => (
                  <li key={i}>
                    {p.node ? (
                      <button className="link" onClick={() => setSelected(p.node!)}>
                        {p.node}
                      </button>
                    ) : (
                      <span>flow</span>
                    )}
                    : {p.message}
                  </li>
                ))}
              </ul>
            </>
          )}
          {tab === "test" &&
            (tested ? (
              <div className="test-result" aria-label="Test result">
                {tested.text !== text && <p className="warn small">The flow changed since this test: test again to see the current one.</p>}
                {tested.result.record === null || tested.result.record === undefined ? (
                  <p className="muted">No record matches the trigger yet: nothing to take through the flow.</p>
                ) : (
                  <ul className="outcomes">
                    {tested.result.nodes.map((o) => (
                      <li key={o.node}>
                        <button className="link" onClick={() => setSelected(o.node)}>
                          {o.node}
                        </button>{" "}
                        <span className={"outcome-" + o.status}>{o.status}</span> {o.error && <span className="field-error">{o.error}</span>}
                      </li>
                    ))}
                  </ul>
                )}
                <p className="muted small">Nothing was written: writes show what they would send. Select a node to see its input and output.</p>
              </div>
            ) : (
              <p className="muted small">Test takes the latest record the trigger matches through the flow: steps and reads run, writes only show what they would send.</p>
            ))}
          {tab === "history" &&
            (savedAs ? <FlowHistory runs={myRuns} onOpen={openRun} /> : <p className="muted small">Save the flow to run it; its runs show here.</p>)}
        </div>
      </div>
    </section>
  );
}
