import type { Problem } from "../bindings";
import { asProblem } from "../lib/api";

/** What happened, and the next step. Nothing fails silently. */
export function ErrorBox({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const p: Problem = asProblem(error);
  return (
    <div className="error-box" role="alert" data-kind={p.kind}>
      <div className="error-message">{p.message}</div>
      <div className="error-detail">{p.detail}</div>
      {onDismiss && (
        <button className="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
