import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands } from "../bindings";
import { fileName, startJob } from "../lib/jobs";
import { interrupted, useRuns } from "../lib/runs";
import { ErrorBox } from "./ErrorBox";

/** At start-up: imports a crash or a closed laptop left unfinished, each
 *  with Resume (nothing lost, nothing sent twice). */
export function ResumeOffer({ show }: { show: (run: string) => void }) {
  const runs = useRuns(false);
  const queryClient = useQueryClient();
  const [dismissed, setDismissed] = useState<string[]>([]);
  const [problem, setProblem] = useState<unknown>(null);
  const offered = interrupted(runs.data).filter((r) => !dismissed.includes(r.summary.run));
  if (offered.length === 0 && !problem) return null;
  const resume = async (run: string) => {
    setProblem(null);
    setDismissed((d) => [...d, run]);
    show(run);
    try {
      await startJob(`Resuming ${run}`, (ch) => commands.startRun({ job: "resume", run }, ch));
    } catch (e) {
      setProblem(e);
    } finally {
      queryClient.invalidateQueries({ queryKey: ["runs"] });
    }
  };
  return (
    <div className="pad-x">
      <ErrorBox error={problem} onDismiss={() => setProblem(null)} />
      {offered.map((r) => (
        <div key={r.summary.run} className="notice resume-offer" role="status" data-run={r.summary.run}>
          <span>
            An import into <b>{r.summary.object}</b> stopped before it finished ({(r.summary.succeeded + r.summary.failed).toLocaleString()} rows settled
            {r.input_file ? ` from ${fileName(r.input_file)}` : ""}).
          </span>
          <button className="primary" onClick={() => void resume(r.summary.run)}>
            Resume
          </button>
          <button onClick={() => show(r.summary.run)}>Show</button>
          <button className="link" onClick={() => setDismissed((d) => [...d, r.summary.run])}>
            Later
          </button>
        </div>
      ))}
    </div>
  );
}
