import { useMemo, useState } from "react";
import type { FieldInfo } from "../bindings";
import { ErrorBox } from "../components/ErrorBox";
import { ConnectionPicker } from "../components/ConnectionPicker";
import { useConnectionChoice } from "../lib/connections";
import { useDescribe, useObjects } from "../lib/schema";

function FieldRow({ f }: { f: FieldInfo }) {
  return (
    <tr data-field={f.name}>
      <td>{f.label}</td>
      <td className="mono">{f.name}</td>
      <td>{f.field_type}</td>
      <td className="num">{f.length || ""}</td>
      <td>{f.required ? "Required" : ""}</td>
      <td>{f.external_id ? "External ID" : ""}</td>
      <td className="small">
        {f.references.length > 0 && <span>→ {f.references.join(", ")}</span>}
        {f.picklist_values.length > 0 && <span title={f.picklist_values.join("\n")}>{f.picklist_values.join(", ")}</span>}
      </td>
    </tr>
  );
}

export default function Schema() {
  const [connection, setConnection] = useConnectionChoice();
  const [search, setSearch] = useState("");
  const [object, setObject] = useState<string | null>(null);
  const objects = useObjects(connection);
  const detail = useDescribe(connection, object);
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (objects.data ?? []).filter((o) => !q || o.name.toLowerCase().includes(q) || o.label.toLowerCase().includes(q));
  }, [objects.data, search]);
  return (
    <section className="screen">
      <header className="screen-head">
        <h2>Schema</h2>
        <ConnectionPicker value={connection} onChange={(n) => (setConnection(n), setObject(null))} />
      </header>
      <ErrorBox error={objects.error ?? detail.error} />
      {connection && (
        <div className="split">
          <aside className="object-list">
            <input type="search" aria-label="Search objects" placeholder="Search objects" value={search} onChange={(e) => setSearch(e.target.value)} />
            {objects.isPending && <p className="muted">Loading objects…</p>}
            <ul>
              {shown.map((o) => (
                <li key={o.name}>
                  <button className={o.name === object ? "selected" : ""} data-object={o.name} onClick={() => setObject(o.name)}>
                    <span>{o.label}</span>
                    <small className="mono">{o.name}</small>
                  </button>
                </li>
              ))}
            </ul>
            {objects.isSuccess && <p className="small muted">{shown.length} of {objects.data.length} objects</p>}
          </aside>
          <div className="object-detail">
            {!object && <p className="muted">Choose an object to see its fields.</p>}
            {object && detail.isPending && <p className="muted">Loading {object}…</p>}
            {detail.data && (
              <>
                <h3>
                  {detail.data.label} <small className="mono muted">{detail.data.name}</small>
                </h3>
                <table className="list fields" aria-label="Fields">
                  <thead>
                    <tr>
                      <th>Label</th>
                      <th>API name</th>
                      <th>Type</th>
                      <th className="num">Length</th>
                      <th>Required</th>
                      <th>External ID</th>
                      <th>Values / references</th>
                    </tr>
                  </thead>
                  <tbody>
                    {detail.data.fields.map((f) => (
                      <FieldRow key={f.name} f={f} />
                    ))}
                  </tbody>
                </table>
              </>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
