import { useConnections } from "../lib/connections";

/** Chooses among the connected connections. */
export function ConnectionPicker({ value, onChange }: { value: string; onChange: (name: string) => void }) {
  const list = useConnections();
  const names = (list.data ?? []).map((c) => c.name);
  if (list.isSuccess && names.length === 0) {
    return <p className="hint">No connections yet: add one on the Connections screen, or connect the Playground.</p>;
  }
  return (
    <label className="inline">
      Connection{" "}
      <select aria-label="Connection" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Choose…</option>
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
}
