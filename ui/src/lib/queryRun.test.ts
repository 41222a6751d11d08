import { describe, expect, it, vi } from "vitest";
import { completion } from "./queryRun";

const summary = { rows: 4000, millis: 12, pages: 2 };

describe("a streamed query's completion", () => {
  it("waits for pages that arrive after the command returned", () => {
    const done = vi.fn();
    const run = completion(done);
    run.commandReturned(summary);
    expect(done).not.toHaveBeenCalled();
    run.pageArrived();
    expect(done).not.toHaveBeenCalled();
    run.pageArrived();
    expect(done).toHaveBeenCalledExactlyOnceWith(summary);
  });

  it("completes on the reply when every page came first, and only once", () => {
    const done = vi.fn();
    const run = completion(done);
    run.pageArrived();
    run.pageArrived();
    expect(done).not.toHaveBeenCalled();
    run.commandReturned(summary);
    run.pageArrived();
    expect(done).toHaveBeenCalledTimes(1);
  });

  it("completes at once for a query that sent no pages", () => {
    const done = vi.fn();
    completion(done).commandReturned({ rows: 0, millis: 3, pages: 0 });
    expect(done).toHaveBeenCalledOnce();
  });
});
