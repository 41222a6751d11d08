import { useSyncExternalStore } from "react";
import { Channel } from "@tauri-apps/api/core";
import { commands, type RunProgress, type RunSummary } from "../bindings";
import { unwrap } from "./api";

/** A long job the app started (an import, its check, a retry, a resume or
 *  an undo): kept outside any screen, so leaving the screen loses nothing. */
export interface Job {
  /** What the user asked for, e.g. "Import into Contact". */
  label: string;
  /** Known from the job's first progress message. */
  run: string | null;
  progress: RunProgress | null;
  summary: RunSummary | null;
  error: unknown;
  cancelling: boolean;
}

type Start = (progress: Channel<RunProgress>) => Promise<{ status: "ok"; data: RunSummary } | { status: "error"; error: import("../bindings").Problem }>;

let current: Job | null = null;
const listeners = new Set<() => void>();

function set(job: Job | null) {
  current = job;
  for (const l of listeners) l();
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The job running or last finished. */
export function useJob(): Job | null {
  return useSyncExternalStore(subscribe, () => current);
}

export function jobRunning(job: Job | null): boolean {
  return !!job && !job.summary && !job.error;
}

/** Starts a job; answers its summary (or throws its problem). One at a time. */
export async function startJob(label: string, start: Start): Promise<RunSummary> {
  if (jobRunning(current)) throw new Error("Another run is in progress; wait for it or cancel it first.");
  const job: Job = { label, run: null, progress: null, summary: null, error: null, cancelling: false };
  set(job);
  const channel = new Channel<RunProgress>();
  channel.onmessage = (p) => {
    if (current?.label !== label || current.summary) return;
    set({ ...current, run: p.run, progress: p });
  };
  try {
    const summary = await unwrap(start(channel));
    set({ ...(current ?? job), run: summary.run, summary });
    return summary;
  } catch (error) {
    set({ ...(current ?? job), error });
    throw error;
  }
}

/** Asks the running job to stop after its in-flight requests. */
export async function cancelJob() {
  if (!current?.run || !jobRunning(current)) return;
  set({ ...current, cancelling: true });
  await commands.cancelRun(current.run);
}

/** Forgets a finished job (the wizard's Start another import). */
export function clearJob() {
  if (!jobRunning(current)) set(null);
}

/** rows/s and seconds left, from a progress message. */
export function speed(p: RunProgress | null): { rate: number | null; etaSeconds: number | null } {
  if (!p || p.elapsed_ms < 500 || p.rows_done === 0) return { rate: null, etaSeconds: null };
  const rate = (p.rows_done * 1000) / p.elapsed_ms;
  const left = p.rows_total != null ? Math.max(0, p.rows_total - p.rows_done) : null;
  return { rate, etaSeconds: left != null ? left / rate : null };
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The last part of a path, for labels ("contacts.csv"). */
export function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
