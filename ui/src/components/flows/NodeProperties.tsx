import { useEffect, useState } from "react";
import type { FieldInfo, FlowProblem, Json, NodeOutcome } from "../../bindings";
import { useConnections } from "../../lib/connections";
import { kindOf, type DraftNode, type ParamSpec, type Params } from "../../lib/flows";
import { useDescribe, useObjects } from "../../lib/schema";
import { TemplateInput } from "./TemplateInput";

/** The selected node's settings: pickers fed by the org's describe,
 * templates that complete upstream names, the node's problems, and what a
 * Test showed going in and out. */
export function NodeProperties(props: {
  node: DraftNode;
  names: string[];
  problems: FlowProblem[];
  input: Json | null;
  outcome: NodeOutcome | null;
  stale: boolean;
  onParams: (p: Params) => void;
  onRename: (id: string) => void;
  onDelete: () => void;
}) {
  const { node, names, problems, input, outcome, stale, onParams, onRename, onDelete } = props;
  const kind = kindOf(node.type);
  const [asJson, setAsJson] = useState(!kind);
  const [id, setId] = useState(node.id);
  useEffect(() => setId(node.id), [node.id]);
  const set = (key: string, v: Json | undefined) => {
    const next = { ...node.params };
    if (v === undefined || v === "" || v === null) delete next[key];
    else next[key] = v;
    onParams(next);
  };
  const connection = typeof node.params.connection === "string" ? node.params.connection : "";
  const object = typeof node.params.object === "string" ? node.params.object : "";
  const describe = useDescribe(connection, object || null);
  const fields = describe.data?.fields ?? [];
  return (
    <aside className="props" aria-label="Node settings">
      <div className="props-head">
        <strong>{kind?.label ?? node.type}</strong>
        <button className="link danger-link" onClick={onDelete} aria-label={`Delete node ${node.id}`}>
          Delete
        </button>
      </div>
      {kind && <p className="muted small">{kind.what}</p>}
      <label className="field">
        <span>Id (templates name it nodes.{node.id})</span>
        <input
          aria-label="Node id"
          className="mono"
          value={id}
          onChange={(e) => setId(e.target.value.replace(/[^A-Za-z0-9_]/g, ""))}
          onBlur={() => id && id !== node.id && onRename(id)}
          onKeyDown={(e) => e.key === "Enter" && id && onRename(id)}
        />
      </label>
      {problems.length > 0 && (
        <ul className="node-problems" aria-label="Problems on this node">
          {problems.map((p) => (
            <li key={p.message}>{p.message}</li>
          ))}
        </ul>
      )}
      {asJson ? (
        <JsonParams params={node.params} onParams={onParams} />
      ) : (
        kind?.params.map((spec) => (
          <ParamField
            key={spec.key}
            spec={spec}
            value={node.params[spec.key]}
            set={(v) => set(spec.key, v)}
            names={names}
            connection={connection}
            fields={fields}
          />
        ))
      )}
      {kind && (
        <button className="link" onClick={() => setAsJson(!asJson)}>
          {asJson ? "Edit as a form" : "Edit the params as JSON"}
        </button>
      )}
      {outcome && (
        <section className="io" aria-label="What the test showed">
          <h4>
            Test: <span className={"outcome-" + outcome.status}>{outcome.status}</span>
            {stale && <span className="badge warn" title="The flow changed since: test again">earlier version</span>}
          </h4>
          {outcome.error && <p className="field-error">{outcome.error}</p>}
          <details>
            <summary>Input</summary>
            <pre>{JSON.stringify(input, null, 2)}</pre>
          </details>
          <details open>
            <summary>{wouldWrite(outcome.output) ? "What it would send (nothing was written)" : "Output"}</summary>
            <pre>{JSON.stringify(outcome.output, null, 2)}</pre>
          </details>
        </section>
      )}
    </aside>
  );
}

/** A Test renders writes instead of doing them: `{"would_send": …}`. */
function wouldWrite(output: Json): boolean {
  return !!output && typeof output === "object" && !Array.isArray(output) && Object.keys(output).some((k) => k.startsWith("would_"));
}

function JsonParams({ params, onParams }: { params: Params; onParams: (p: Params) => void }) {
  const [text, setText] = useState(JSON.stringify(params, null, 2));
  const [bad, setBad] = useState<string | null>(null);
  return (
    <label className="field">
      <span>Params (JSON)</span>
      <textarea
        aria-label="Params as JSON"
        className={"mono" + (bad ? " invalid" : "")}
        rows={10}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const v = JSON.parse(e.target.value);
            if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("params are a JSON object");
            setBad(null);
            onParams(v);
          } catch (err) {
            setBad(err instanceof Error ? err.message : String(err));
          }
        }}
      />
      {bad && <em className="field-error">{bad}</em>}
    </label>
  );
}

function ParamField(props: {
  spec: ParamSpec;
  value: Json | undefined;
  set: (v: Json | undefined) => void;
  names: string[];
  connection: string;
  fields: FieldInfo[];
}) {
  const { spec, value, set, names, connection, fields } = props;
  const text = typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
  const label = spec.label + (spec.optional ? " (optional)" : "");
  switch (spec.kind) {
    case "connection":
      return (
        <label className="field">
          <span>{label}</span>
          <ConnectionSelect value={text} onChange={set} />
        </label>
      );
    case "object":
      return (
        <label className="field">
          <span>{label}</span>
          <ObjectSelect connection={connection} value={text} onChange={set} />
        </label>
      );
    case "external-id":
      return (
        <label className="field">
          <span>{label}</span>
          <select aria-label={spec.label} value={text} onChange={(e) => set(e.target.value)}>
            <option value="">Choose…</option>
            {fields
              .filter((f) => f.external_id || f.name === "Id")
              .map((f) => (
                <option key={f.name} value={f.name}>
                  {f.label} ({f.name})
                </option>
              ))}
          </select>
        </label>
      );
    case "fields":
      return <FieldChecklist label={label} fields={fields} value={Array.isArray(value) ? (value as string[]) : []} onChange={set} />;
    case "choice":
      return (
        <label className="field">
          <span>{label}</span>
          <select aria-label={spec.label} value={text} onChange={(e) => set(e.target.value)}>
            {spec.optional && <option value="">(default)</option>}
            {spec.options!.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
      );
    case "number":
      return (
        <label className="field">
          <span>{label}</span>
          <input
            aria-label={spec.label}
            type="number"
            min={1}
            value={text}
            onChange={(e) => set(e.target.value === "" ? undefined : Number(e.target.value))}
          />
        </label>
      );
    case "text":
      return (
        <label className="field">
          <span>{label}</span>
          <input aria-label={spec.label} value={text} placeholder={spec.hint} onChange={(e) => set(e.target.value)} />
        </label>
      );
    case "template":
    case "condition":
      return (
        <div className="field">
          <span>{label}</span>
          <TemplateInput
            label={spec.label}
            value={text}
            onChange={set}
            names={names}
            expression={spec.kind === "condition"}
            multiline={spec.key === "body" || spec.key === "soql" || spec.key === "sosl"}
            placeholder={spec.hint}
          />
          <small>{spec.kind === "condition" ? "A Jinja expression" : "Text with {{ placeholders }}"}; Ctrl+Space lists the names.</small>
        </div>
      );
    case "map":
      return (
        <MapEditor
          label={label}
          value={value && typeof value === "object" && !Array.isArray(value) ? (value as { [k: string]: Json }) : {}}
          onChange={set}
          names={names}
          fields={spec.keys === "fields" ? fields : null}
        />
      );
    case "json":
      return <JsonValueField label={label} value={value} onChange={set} hint={spec.hint} />;
  }
}

function ConnectionSelect({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const list = useConnections();
  const names = (list.data ?? []).map((c) => c.name);
  return (
    <select aria-label="Connection" value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">Choose…</option>
      {value && !names.includes(value) && <option value={value}>{value} (not found)</option>}
      {names.map((n) => (
        <option key={n} value={n}>
          {n}
        </option>
      ))}
    </select>
  );
}

function ObjectSelect({ connection, value, onChange }: { connection: string; value: string; onChange: (v: string) => void }) {
  const objects = useObjects(connection);
  const list = (objects.data ?? []).filter((o) => o.queryable);
  if (!connection) return <p className="hint small">Choose a connection first.</p>;
  return (
    <select aria-label="Object" value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{objects.isLoading ? "Loading…" : "Choose…"}</option>
      {value && !list.some((o) => o.name === value) && <option value={value}>{value}</option>}
      {list.map((o) => (
        <option key={o.name} value={o.name}>
          {o.label} ({o.name})
        </option>
      ))}
    </select>
  );
}

function FieldChecklist(props: { label: string; fields: FieldInfo[]; value: string[]; onChange: (v: Json) => void }) {
  const { label, fields, value, onChange } = props;
  const [filter, setFilter] = useState("");
  const shown = fields.filter((f) => `${f.name} ${f.label}`.toLowerCase().includes(filter.toLowerCase()));
  const toggle = (name: string) => onChange(value.includes(name) ? value.filter((v) => v !== name) : [...value, name]);
  return (
    <fieldset className="field checklist">
      <legend>{label}</legend>
      <div className="chosen mono small">{value.join(", ") || "none yet"}</div>
      {fields.length === 0 ? (
        <small className="muted">Choose the object to pick its fields.</small>
      ) : (
        <>
          <input aria-label="Find a field" placeholder="Find a field…" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <div className="checks" role="group" aria-label={label}>
            {shown.map((f) => (
              <label key={f.name} className="inline small" title={f.field_type}>
                <input type="checkbox" checked={value.includes(f.name)} onChange={() => toggle(f.name)} />
                {f.label} <span className="muted mono">{f.name}</span>
              </label>
            ))}
          </div>
        </>
      )}
    </fieldset>
  );
}

function MapEditor(props: {
  label: string;
  value: { [k: string]: Json };
  onChange: (v: Json) => void;
  names: string[];
  fields: FieldInfo[] | null;
}) {
  const { label, value, onChange, names, fields } = props;
  const rows = Object.entries(value);
  const write = (entries: [string, Json][]) => onChange(Object.fromEntries(entries));
  const [newKey, setNewKey] = useState("");
  const add = () => {
    if (!newKey || newKey in value) return;
    write([...rows, [newKey, ""]]);
    setNewKey("");
  };
  return (
    <fieldset className="field map">
      <legend>{label}</legend>
      {rows.map(([k, v], i) => (
        <div className="map-row" key={k}>
          <span className="mono small map-key" title={k}>
            {k}
          </span>
          <TemplateInput
            label={`${label}: ${k}`}
            value={typeof v === "string" ? v : JSON.stringify(v)}
            onChange={(t) => write(rows.map((r, j) => (j === i ? [k, t] : r)))}
            names={names}
          />
          <button className="link" aria-label={`Remove ${k}`} onClick={() => write(rows.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <div className="map-row">
        {fields ? (
          <select aria-label={`Add to ${label}`} value={newKey} onChange={(e) => setNewKey(e.target.value)}>
            <option value="">Add a field…</option>
            {fields
              .filter((f) => !(f.name in value))
              .map((f) => (
                <option key={f.name} value={f.name}>
                  {f.label} ({f.name})
                </option>
              ))}
          </select>
        ) : (
          <input aria-label={`Add to ${label}`} placeholder="Name…" value={newKey} onChange={(e) => setNewKey(e.target.value)} onKeyDown={(e) => e.key === "Enter" && add()} />
        )}
        <button onClick={add} disabled={!newKey}>
          Add
        </button>
      </div>
    </fieldset>
  );
}

function JsonValueField(props: { label: string; value: Json | undefined; onChange: (v: Json | undefined) => void; hint?: string }) {
  const { label, value, onChange, hint } = props;
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value));
  const [bad, setBad] = useState<string | null>(null);
  return (
    <label className="field">
      <span>{label}</span>
      <textarea
        aria-label={label}
        className={"mono" + (bad ? " invalid" : "")}
        rows={3}
        placeholder={hint}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") {
            setBad(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setBad(null);
          } catch (err) {
            setBad(err instanceof Error ? err.message : String(err));
          }
        }}
      />
      {bad && <em className="field-error">{bad}</em>}
    </label>
  );
}
