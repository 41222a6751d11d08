import type { QuerySummary } from "../bindings";

/**
 * Tells when a streamed query is complete: its command has returned and every
 * page it sent has arrived. Tauri delivers a channel's messages in order, but
 * the last of them can arrive after the command's own reply.
 */
export function completion(onComplete: (summary: QuerySummary) => void) {
  let received = 0;
  let summary: QuerySummary | null = null;
  let done = false;
  const check = () => {
    if (!done && summary && received >= summary.pages) {
      done = true;
      onComplete(summary);
    }
  };
  return {
    pageArrived() {
      received += 1;
      check();
    },
    commandReturned(s: QuerySummary) {
      summary = s;
      check();
    },
  };
}
