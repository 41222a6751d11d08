import type { ErrorKind, Problem } from "../bindings";

/** A failed command: what happened, and what to do next. */
export class ProblemError extends Error {
  readonly kind: ErrorKind;
  readonly detail: string;
  constructor(problem: Problem) {
    super(problem.message);
    this.kind = problem.kind;
    this.detail = problem.detail;
  }
}

type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: Problem };

/** The data of a command's answer, or its problem thrown for TanStack Query. */
export async function unwrap<T>(answer: Promise<CommandResult<T>>): Promise<T> {
  const r = await answer;
  if (r.status === "error") throw new ProblemError(r.error);
  return r.data;
}

/** Any thrown value as a problem the error box can show. */
export function asProblem(e: unknown): Problem {
  if (e instanceof ProblemError) return { kind: e.kind, message: e.message, detail: e.detail };
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "internal", message, detail: "Try again; if it keeps happening, the log folder (Settings) has the details." };
}
