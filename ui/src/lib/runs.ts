import { useQuery } from "@tanstack/react-query";
import { commands, type RunRecord } from "../bindings";
import { unwrap } from "./api";
import { duration } from "./jobs";

/** Every run, newest first; refreshed while one is running. */
export function useRuns(polling: boolean) {
  return useQuery({
    queryKey: ["runs"],
    queryFn: () => unwrap(commands.listRuns()),
    refetchInterval: polling ? 2000 : false,
  });
}

export function runDuration(r: RunRecord, now = Date.now()): string {
  const start = Date.parse(r.started_at);
  const end = r.finished_at ? Date.parse(r.finished_at) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return "";
  return duration(Math.max(0, end - start) / 1000);
}

export const KIND_LABEL: Record<string, string> = {
  import: "Import",
  "dry-run": "Check",
  export: "Export",
  undo: "Undo",
  flow: "Flow",
};

/** Imports a crash or a closed laptop left unfinished: offered at start. */
export function interrupted(runs: RunRecord[] | undefined): RunRecord[] {
  return (runs ?? []).filter((r) => r.resumable && r.summary.status === "interrupted");
}
