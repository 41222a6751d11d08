import { useEffect, useMemo, useRef, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "../lib/api";
import { ErrorBox } from "./ErrorBox";

type License = { name: string; version: string; license: string; ecosystem: string };

/** Version, folders, Copy diagnostics and the third-party licenses, in a modal dialog (mounted while open). */
export function About({ close }: { close: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  const about = useQuery({ queryKey: ["about"], queryFn: () => commands.about() });
  const copy = useMutation({ mutationFn: () => unwrap(commands.copyDiagnostics()) });
  const a = about.data;
  return (
    <dialog ref={dialog} className="about" aria-labelledby="about-title" onClose={close}>
      <header className="about-head">
        <span className="logo" aria-hidden />
        <div>
          <h2 id="about-title">Sync Studio</h2>
          <span className="muted" data-testid="about-version">
            Version {a?.version ?? "…"}
          </span>
        </div>
      </header>
      {a && (
        <dl className="about-facts">
          <dt>Data folder</dt>
          <dd>
            <code data-testid="about-data-folder">{a.data_folder}</code>
          </dd>
          <dt>Log folder</dt>
          <dd>
            <code data-testid="about-log-folder">{a.log_folder}</code>
          </dd>
          <dt>System</dt>
          <dd>{a.os}</dd>
          <dt>Web engine</dt>
          <dd>{a.webview_version}</dd>
        </dl>
      )}
      <div className="actions">
        <button type="button" onClick={() => copy.mutate()} disabled={copy.isPending}>
          Copy diagnostics
        </button>
        {copy.isSuccess && (
          <span className="muted" role="status">
            Copied to the clipboard: versions, system and the last log lines, with secrets hidden.
          </span>
        )}
      </div>
      <ErrorBox error={copy.error} />
      {copy.data && <textarea className="diagnostics" readOnly value={copy.data} aria-label="Diagnostics" rows={6} />}
      <Licenses />
      <div className="actions end">
        <button className="primary" type="button" onClick={close} autoFocus>
          Close
        </button>
      </div>
    </dialog>
  );
}

function Licenses() {
  const [list, setList] = useState<License[] | null>(null);
  const [filter, setFilter] = useState("");
  useEffect(() => {
    // Generated from the lock files; loaded only when the box opens.
    void import("../generated/licenses.json").then((m) => setList(m.default as License[]));
  }, []);
  const shownRows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return (list ?? []).filter((p) => !f || p.name.toLowerCase().includes(f) || p.license.toLowerCase().includes(f));
  }, [list, filter]);
  if (!list) return null;
  const crates = list.filter((p) => p.ecosystem === "crates.io").length;
  return (
    <details className="licenses">
      <summary>
        Third-party licenses ({crates} Rust crates, {list.length - crates} npm packages)
      </summary>
      <input placeholder="Filter by name or license" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter licenses" />
      <div className="licenses-table">
        <table>
          <thead>
            <tr>
              <th>Package</th>
              <th>Version</th>
              <th>License</th>
            </tr>
          </thead>
          <tbody>
            {shownRows.map((p) => (
              <tr key={`${p.ecosystem}:${p.name}@${p.version}`}>
                <td>
                  {p.name} <span className="muted">{p.ecosystem}</span>
                </td>
                <td>{p.version}</td>
                <td>{p.license}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
