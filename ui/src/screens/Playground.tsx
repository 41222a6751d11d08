import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "../lib/api";
import { ErrorBox } from "../components/ErrorBox";
import { refreshConnections } from "../lib/connections";

export default function Playground({ onConnected }: { onConnected: () => void }) {
  const client = useQueryClient();
  const status = useQuery({ queryKey: ["playground"], queryFn: () => unwrap(commands.playgroundStatus()) });
  const settle = () => client.invalidateQueries({ queryKey: ["playground"] });
  const start = useMutation({ mutationFn: () => unwrap(commands.startPlayground()), onSettled: settle });
  const stop = useMutation({ mutationFn: () => unwrap(commands.stopPlayground()), onSettled: settle });
  const connect = useMutation({
    mutationFn: () => unwrap(commands.connectPlayground()),
    onSettled: () => (settle(), refreshConnections(client)),
    onSuccess: onConnected,
  });
  const s = status.data;
  const busy = start.isPending || stop.isPending || connect.isPending;
  return (
    <section className="screen">
      <header className="screen-head">
        <h2>Playground</h2>
      </header>
      <div className="panel">
        <p>
          The playground is a Salesforce org that runs inside Sync Studio, filled with demo accounts, contacts and
          opportunities. Try every screen against it without an org of your own; its records are kept between runs.
        </p>
        <p>
          Status:{" "}
          <span className={`badge ${s?.running ? "connected" : "idle"}`} data-testid="playground-status">
            {s?.running ? "Running" : "Stopped"}
          </span>
          {s?.url && (
            <>
              {" "}
              at <code>{s.url}</code>
            </>
          )}
        </p>
        {s && (
          <p className="small muted">
            Sign in on its login page as <code>{s.username}</code> with password <code>{s.password}</code>. Records live
            in <code>{s.data_folder}</code>.
          </p>
        )}
        <div className="actions">
          <button className="primary" disabled={busy} onClick={() => connect.mutate()}>
            {connect.isPending ? "Connecting…" : "Start and connect"}
          </button>
          {s?.running ? (
            <button disabled={busy} onClick={() => stop.mutate()}>
              Stop
            </button>
          ) : (
            <button disabled={busy} onClick={() => start.mutate()}>
              Start only
            </button>
          )}
        </div>
        <ErrorBox error={status.error ?? start.error ?? stop.error ?? connect.error} />
      </div>
    </section>
  );
}
