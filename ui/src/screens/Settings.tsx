import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "../lib/api";
import { ErrorBox } from "../components/ErrorBox";

export default function Settings() {
  const client = useQueryClient();
  const settings = useQuery({ queryKey: ["settings"], queryFn: () => unwrap(commands.getSettings()) });
  const [version, setVersion] = useState("");
  const [port, setPort] = useState("");
  useEffect(() => {
    if (settings.data) {
      setVersion(settings.data.default_api_version ?? "");
      setPort(String(settings.data.playground_port));
    }
  }, [settings.data]);
  const saveIt = useMutation({
    mutationFn: () => unwrap(commands.saveSettings({ default_api_version: version.trim() || null, playground_port: Number(port) || 0 })),
    onSuccess: (s) => client.setQueryData(["settings"], s),
  });
  const openLogs = useMutation({ mutationFn: () => unwrap(commands.openLogFolder()) });
  const atLogin = useQuery({ queryKey: ["start-at-login"], queryFn: () => unwrap(commands.startAtLogin()) });
  const setAtLogin = useMutation({
    mutationFn: (on: boolean) => unwrap(commands.setStartAtLogin(on)),
    onSuccess: (on) => client.setQueryData(["start-at-login"], on),
  });
  const s = settings.data;
  return (
    <section className="screen">
      <header className="screen-head">
        <h2>Settings</h2>
      </header>
      <ErrorBox error={settings.error} />
      <div className="panel form">
        <label className="toggle">
          <input
            type="checkbox"
            name="startAtLogin"
            checked={atLogin.data ?? false}
            disabled={atLogin.isPending || setAtLogin.isPending}
            onChange={(e) => setAtLogin.mutate(e.target.checked)}
          />
          <span>
            Start Sync Studio when I log in, in the tray
            <small>Enabled flows then keep running without opening the window. Takes effect at your next login.</small>
          </span>
        </label>
        <ErrorBox error={atLogin.error ?? setAtLogin.error} />
      </div>
      {s && (
        <form
          className="panel form"
          onSubmit={(e) => {
            e.preventDefault();
            saveIt.mutate();
          }}
        >
          <div className="field">
            <span>Data folder</span>
            <code data-testid="data-folder">{s.data_folder}</code>
            <small>Set SYNCSTUDIO_HOME before starting the app to use another folder.</small>
          </div>
          <div className="field">
            <span>Log folder</span>
            <code>{s.log_folder}</code>
            <button type="button" onClick={() => openLogs.mutate()}>
              Open log folder
            </button>
          </div>
          <label className="field">
            <span>Default API version</span>
            <input name="apiVersion" placeholder="newest the org offers" value={version} onChange={(e) => setVersion(e.target.value)} />
            <small>Used by new connections, like 62.0. Empty means the newest the org offers.</small>
          </label>
          <label className="field">
            <span>Playground port</span>
            <input name="playgroundPort" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} />
            <small>Used the next time the playground starts.</small>
          </label>
          <ErrorBox error={saveIt.error ?? openLogs.error} />
          <div className="actions">
            <button className="primary" type="submit" disabled={saveIt.isPending}>
              Save
            </button>
            {saveIt.isSuccess && <span className="muted">Saved.</span>}
          </div>
        </form>
      )}
    </section>
  );
}
