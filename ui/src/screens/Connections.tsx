import { useEffect, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, DEFAULT_CALLBACK_PORT, events, type ConnectionRow } from "../bindings";
import { asProblem, ProblemError, unwrap } from "../lib/api";
import { ErrorBox } from "../components/ErrorBox";
import { environmentOf, validateDraft, type ConnectionDraft, type DraftErrors } from "../lib/validate";
import { refreshConnections, useConnections } from "../lib/connections";

const STATUS_LABEL: Record<string, string> = {
  connected: "Connected",
  needs_grant: "Needs Grant access",
  error: "Error",
};

const EMPTY_DRAFT: ConnectionDraft = {
  name: "",
  environment: "production",
  myDomainUrl: "",
  clientId: "",
  clientSecret: "",
  callbackPort: String(DEFAULT_CALLBACK_PORT),
};

/** While the browser is out: the URL it was sent to, and Cancel. */
function Waiting({ onCancel }: { onCancel: () => void }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const off = events.signInStarted.listen((e) => setUrl(e.payload.url));
    return () => {
      off.then((f) => f());
    };
  }, []);
  return (
    <div className="panel waiting" role="status">
      <div className="spinner" aria-hidden />
      <h3>Waiting for you to grant access in the browser…</h3>
      <p>Sign in to Salesforce in the browser window that opened and click Allow. This window picks up from there.</p>
      {url && (
        <p className="small">
          Nothing opened? Visit <code className="url" data-testid="auth-url">{url}</code>
        </p>
      )}
      <button onClick={onCancel}>Cancel</button>
    </div>
  );
}

function Field(props: { label: string; error?: string; children: React.ReactNode; hint?: string }) {
  return (
    <label className={"field" + (props.error ? " invalid" : "")}>
      <span>{props.label}</span>
      {props.children}
      {props.error ? <em className="field-error">{props.error}</em> : props.hint && <small>{props.hint}</small>}
    </label>
  );
}

function NewConnection(props: {
  taken: string[];
  initial: ConnectionDraft;
  onDone: (row: ConnectionRow | null) => void;
  onFailed: (error: unknown, draft: ConnectionDraft) => void;
}) {
  const { taken, initial, onDone, onFailed } = props;
  const [draft, setDraft] = useState<ConnectionDraft>(initial);
  const [touched, setTouched] = useState(false);
  const errors: DraftErrors = validateDraft(draft, taken);
  const set = (k: keyof ConnectionDraft) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const grant = useMutation({
    mutationFn: () =>
      unwrap(
        // Sent as typed: studio trims, and treats a blank secret as none.
        commands.addConnection({
          name: draft.name,
          environment: environmentOf(draft),
          client_id: draft.clientId,
          client_secret: draft.clientSecret || null,
          callback_port: Number(draft.callbackPort),
        }),
      ),
    onSuccess: (row) => onDone(row),
    // Back to the list with the reason; "Try again" brings the form back as typed.
    onError: (error) => onFailed(error, draft),
  });
  const show = (k: keyof ConnectionDraft) => (touched || draft[k] !== EMPTY_DRAFT[k] ? errors[k] : undefined);
  if (grant.isPending) return <Waiting onCancel={() => commands.cancelSignIn()} />;
  return (
    <form
      className="panel form"
      aria-label="New connection"
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (Object.keys(errors).length === 0) grant.mutate();
      }}
    >
      <h3>New connection</h3>
      <Field label="Name" error={show("name")}>
        <input name="name" value={draft.name} onChange={set("name")} autoFocus placeholder="Production org" />
      </Field>
      <Field label="Environment">
        <select name="environment" value={draft.environment} onChange={set("environment")}>
          <option value="production">Production (login.salesforce.com)</option>
          <option value="sandbox">Sandbox (test.salesforce.com)</option>
          <option value="mydomain">My Domain URL…</option>
        </select>
      </Field>
      {draft.environment === "mydomain" && (
        <Field label="My Domain URL" error={show("myDomainUrl")}>
          <input name="myDomainUrl" value={draft.myDomainUrl} onChange={set("myDomainUrl")} placeholder="https://acme.my.salesforce.com" />
        </Field>
      )}
      <Field label="Consumer key" error={show("clientId")} hint="From the connected app (Setup → App Manager).">
        <input name="clientId" value={draft.clientId} onChange={set("clientId")} />
      </Field>
      <Field label="Consumer secret (optional)" hint="Only if the connected app requires it. Kept in the OS keychain.">
        <input name="clientSecret" type="password" value={draft.clientSecret} onChange={set("clientSecret")} />
      </Field>
      <Field label="Callback port" error={show("callbackPort")} hint="The port in the callback URL http://localhost:PORT/OauthRedirect.">
        <input name="callbackPort" inputMode="numeric" value={draft.callbackPort} onChange={set("callbackPort")} />
      </Field>
      <div className="actions">
        <button type="submit" className="primary">
          Grant access
        </button>
        <button type="button" onClick={() => onDone(null)}>
          Back
        </button>
      </div>
    </form>
  );
}

function usage(c: ConnectionRow) {
  if (c.api_limit == null) return "—";
  return `${(c.api_used ?? 0).toLocaleString()} / ${c.api_limit.toLocaleString()}`;
}

function ConnectionLine({ c, onError }: { c: ConnectionRow; onError: (e: unknown) => void }) {
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const refresh = () => refreshConnections(client);
  const test = useMutation({ mutationFn: () => unwrap(commands.testConnection(c.name)), onSettled: refresh, onError });
  const regrant = useMutation({ mutationFn: () => unwrap(commands.grantAccess(c.name)), onSettled: refresh, onError });
  const remove = useMutation({
    mutationFn: () => unwrap(commands.removeConnection(c.name)),
    onSettled: refresh,
    onError,
    onSuccess: (removal) => {
      // Gone here; say plainly when the tokens may still work at Salesforce.
      if (removal.revoke_failed)
        onError(
          new ProblemError({
            kind: "network",
            message: `Removed ${c.name} here, but Salesforce could not revoke its tokens: ${removal.revoke_failed}`,
            detail: "They may keep working until they expire: revoke them in Salesforce Setup → Connected Apps OAuth Usage.",
          }),
        );
    },
  });
  return (
    <tr data-connection={c.name}>
      <td>
        <strong>{c.name}</strong>
        <div className="small muted">{c.instance_url ?? c.login_url}</div>
      </td>
      <td>
        <span className={`badge ${c.status}`} data-testid="status" title={c.status_message ?? ""}>
          {STATUS_LABEL[c.status] ?? c.status}
        </span>
        {c.status_message && <div className="small muted clip">{c.status_message}</div>}
      </td>
      <td>{c.username ?? "—"}</td>
      <td className="mono">{c.org_id ?? "—"}</td>
      <td className="num" data-testid="api-usage">{usage(c)}</td>
      <td className="row-actions">
        {regrant.isPending ? (
          <span className="waiting-inline">
            Waiting for the browser… <button onClick={() => commands.cancelSignIn()}>Cancel</button>
          </span>
        ) : (
          <>
            <button onClick={() => test.mutate()} disabled={test.isPending}>
              {test.isPending ? "Testing…" : "Test"}
            </button>
            {c.status !== "connected" && <button onClick={() => regrant.mutate()}>Grant access</button>}
            {confirming ? (
              <>
                <button className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
                  Confirm remove
                </button>
                <button onClick={() => setConfirming(false)}>Keep</button>
              </>
            ) : (
              <button onClick={() => setConfirming(true)}>Remove</button>
            )}
          </>
        )}
      </td>
    </tr>
  );
}

export default function Connections() {
  const client = useQueryClient();
  const list = useConnections();
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft] = useState<ConnectionDraft>(EMPTY_DRAFT);
  const [retry, setRetry] = useState(false);
  const rows = list.data ?? [];
  return (
    <section className="screen">
      <header className="screen-head">
        <h2>Connections</h2>
        {!adding && (
          <button className="primary" onClick={() => (setAdding(true), setNotice(null), setError(null), setRetry(false))}>
            New connection
          </button>
        )}
      </header>
      {notice && (
        <div className="notice" role="status">
          {notice}
        </div>
      )}
      <ErrorBox error={list.error ?? error} onDismiss={error ? () => (setError(null), setRetry(false)) : undefined} />
      {retry && !adding && (
        <div className="actions">
          <button className="primary" onClick={() => (setError(null), setRetry(false), setAdding(true))}>
            Try again
          </button>
        </div>
      )}
      {adding ? (
        <NewConnection
          taken={rows.map((r) => r.name)}
          initial={draft}
          onFailed={(e, typed) => {
            setAdding(false);
            setDraft(typed);
            if (asProblem(e).kind === "cancelled") {
              setNotice("Sign-in cancelled: nothing was saved.");
            } else {
              setError(e);
              setRetry(true);
            }
          }}
          onDone={(row) => {
            setAdding(false);
            if (row) {
              setDraft(EMPTY_DRAFT);
              setNotice(`Connected “${row.name}” as ${row.username ?? "the user who granted access"}.`);
              refreshConnections(client);
            }
          }}
        />
      ) : rows.length === 0 && list.isSuccess ? (
        <div className="panel empty">
          <p>No connections yet.</p>
          <p>
            Click <strong>New connection</strong> to sign in to your org, or open <strong>Playground</strong> to try
            Sync Studio against the built-in org.
          </p>
        </div>
      ) : (
        <table className="list" aria-label="Connections">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>User</th>
              <th>Org</th>
              <th className="num">API calls today</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <ConnectionLine key={c.id} c={c} onError={setError} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
