import { describe, expect, it } from "vitest";
import type { RunRecord, RunSummary } from "../bindings";
import { interrupted, runDuration } from "./runs";
import { duration, speed } from "./jobs";

const summary = (status: RunSummary["status"]): RunSummary => ({
  run: "r1", status, operation: "insert", object: "Contact", rows: 10, succeeded: 5, failed: 0, unknown: 0,
  created: 5, updated: 0, unchanged: 0, deleted: 0, api_calls: 2, success_file: "s.csv", error_file: "e.csv",
});
const record = (status: RunSummary["status"], resumable: boolean): RunRecord => ({
  summary: summary(status), kind: "import", connection: "Playground", input_file: "f.csv",
  started_at: "2026-11-29T10:00:00Z", finished_at: "2026-11-29T10:01:05Z", error: null, retry_of: null, resumable,
});

describe("runs", () => {
  it("offers only interrupted imports at start", () => {
    expect(interrupted([record("interrupted", true), record("cancelled", true), record("completed", false)])).toHaveLength(1);
  });
  it("says how long a run took", () => {
    expect(runDuration(record("completed", false))).toBe("1 min 5 s");
    expect(duration(3 * 3600 + 120)).toBe("3 h 2 min");
  });
  it("gives rows/s and time left once the run has moved", () => {
    expect(speed({ run: "r", rows_done: 0, rows_total: 100, api_calls: 0, elapsed_ms: 10 })).toEqual({ rate: null, etaSeconds: null });
    expect(speed({ run: "r", rows_done: 500, rows_total: 1500, api_calls: 3, elapsed_ms: 1000 })).toEqual({ rate: 500, etaSeconds: 2 });
  });
});
