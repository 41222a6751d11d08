import { lazy, Suspense, useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, events, type Problem } from "./bindings";
import { ErrorBox } from "./components/ErrorBox";
import { ProblemError } from "./lib/api";
import Connections from "./screens/Connections";
import { refreshConnections } from "./lib/connections";
import { ResumeOffer } from "./components/ResumeOffer";
import { About } from "./components/About";

// Only the first screen is in the start-up bundle; the rest load on demand.
const Schema = lazy(() => import("./screens/Schema"));
const Soql = lazy(() => import("./screens/Soql"));
const Playground = lazy(() => import("./screens/Playground"));
const Settings = lazy(() => import("./screens/Settings"));
const Flows = lazy(() => import("./screens/Flows"));
const Imports = lazy(() => import("./screens/Imports"));
const Runs = lazy(() => import("./screens/Runs"));

export type ScreenId = "connections" | "schema" | "soql" | "flows" | "imports" | "runs" | "playground" | "settings";

const NAV: { id: ScreenId; label: string }[] = [
  { id: "connections", label: "Connections" },
  { id: "schema", label: "Schema" },
  { id: "soql", label: "SOQL" },
  { id: "flows", label: "Flows" },
  { id: "imports", label: "Imports" },
  { id: "runs", label: "Runs" },
  { id: "playground", label: "Playground" },
  { id: "settings", label: "Settings" },
];

function Screen({ id, go, run }: { id: ScreenId; go: (s: ScreenId) => void; run: string | null }) {
  switch (id) {
    case "connections":
      return <Connections />;
    case "schema":
      return <Schema />;
    case "soql":
      return <Soql />;
    case "playground":
      return <Playground onConnected={() => go("connections")} />;
    case "settings":
      return <Settings />;
    case "flows":
    case "imports":
      // Kept mounted by App: a wizard's choices and an unsaved flow
      // survive a look elsewhere.
      return null;
    case "runs":
      return <Runs initial={run} />;
  }
}

export default function App() {
  const [screen, setScreen] = useState<ScreenId>("connections");
  const [importsVisited, setImportsVisited] = useState(false);
  const [flowsVisited, setFlowsVisited] = useState(false);
  const [shownRun, setShownRun] = useState<string | null>(null);
  const go = (s: ScreenId, run: string | null = null) => {
    if (s === "imports") setImportsVisited(true);
    if (s === "flows") setFlowsVisited(true);
    setShownRun(run);
    setScreen(s);
  };
  const [startupProblem, setStartupProblem] = useState<Problem | null>(null);
  const [aboutOpen, setAboutOpen] = useState(false);
  const queryClient = useQueryClient();
  useEffect(() => {
    // Two frames: the first screen has been painted.
    requestAnimationFrame(() => requestAnimationFrame(() => void commands.appReady()));
  }, []);
  useEffect(() => {
    // The playground connected (or could not) at start-up.
    const off = events.connectionsChanged.listen((e) => {
      refreshConnections(queryClient);
      queryClient.invalidateQueries({ queryKey: ["playground"] });
      setStartupProblem(e.payload.problem ?? null);
    });
    return () => {
      off.then((f) => f());
    };
  }, [queryClient]);
  useEffect(() => {
    // A click on a desktop notification: show what it was about.
    const off = events.noticeOpened.listen((e) => {
      const opens = e.payload.opens;
      if (opens.screen === "run") {
        queryClient.invalidateQueries({ queryKey: ["runs"] });
        go("runs", opens.run);
      } else {
        go("flows");
      }
    });
    return () => {
      off.then((f) => f());
    };
  }, [queryClient]);
  return (
    <div className="app">
      <nav className="nav" aria-label="Main">
        <div className="brand">
          <span className="logo" aria-hidden />
          Sync Studio
        </div>
        {NAV.map((n) => (
          <button
            key={n.id}
            className={"nav-item" + (screen === n.id ? " current" : "")}
            aria-current={screen === n.id ? "page" : undefined}
            data-nav={n.id}
            onClick={() => go(n.id)}
          >
            {n.label}
          </button>
        ))}
        <button className="nav-item nav-about" data-nav="about" onClick={() => setAboutOpen(true)}>
          About
        </button>
      </nav>
      {aboutOpen && <About close={() => setAboutOpen(false)} />}
      <main className="main">
        {startupProblem && (
          <div className="pad-x">
            <ErrorBox error={new ProblemError(startupProblem)} onDismiss={() => setStartupProblem(null)} />
          </div>
        )}
        <ResumeOffer show={(run) => go("runs", run)} />
        <Suspense fallback={<p className="muted pad">Loading…</p>}>
          <Screen key={screen === "runs" ? `runs-${shownRun}` : screen} id={screen} go={go} run={shownRun} />
          {flowsVisited && (
            <div hidden={screen !== "flows"} className="keep">
              <Flows openRun={(run) => go("runs", run)} />
            </div>
          )}
          {importsVisited && (
            <div hidden={screen !== "imports"}>
              <Imports />
            </div>
          )}
        </Suspense>
      </main>
    </div>
  );
}
