import { cancelJob, duration, speed, useJob, jobRunning } from "../lib/jobs";
import { useReveal } from "../lib/reveal";

/** The running job: rows done of all, rows/s, time left, API calls, Cancel. */
export function JobProgress() {
  const job = useJob();
  const running = !!job && jobRunning(job);
  const ref = useReveal<HTMLElement>(running ? job.label : null);
  if (!job || !running) return null;
  const p = job.progress;
  const { rate, etaSeconds } = speed(p);
  const total = p?.rows_total ?? null;
  const done = p?.rows_done ?? 0;
  return (
    <section ref={ref} className="panel job" aria-label="Run in progress" data-run={job.run ?? ""}>
      <div className="job-head">
        <strong>{job.label}</strong>
        {job.run && <span className="muted small mono">run {job.run}</span>}
      </div>
      <progress max={total ?? undefined} value={total ? done : undefined} aria-label="Rows done" />
      <div className="job-stats small">
        <span data-testid="rows-done">
          {done.toLocaleString()}
          {total != null ? ` of ${total.toLocaleString()}` : ""} rows
        </span>
        <span>{rate != null ? `${Math.round(rate).toLocaleString()} rows/s` : "starting…"}</span>
        <span>{etaSeconds != null ? `about ${duration(etaSeconds)} left` : ""}</span>
        <span>{p ? `${p.api_calls.toLocaleString()} API calls` : ""}</span>
        <button onClick={() => void cancelJob()} disabled={!job.run || job.cancelling}>
          {job.cancelling ? "Stopping after the requests in flight…" : "Cancel"}
        </button>
      </div>
    </section>
  );
}
