import { beforeAll, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";

const saved = JSON.stringify({
  version: 1,
  name: "Contacts to the ERP",
  nodes: [
    { id: "t", type: "salesforce.trigger", params: { connection: "Play", object: "Contact", on: "created", every_seconds: 60, fields: ["Email"] } },
    { id: "post", type: "http.request", params: { method: "POST", url: "https://erp/x", body: "{{ record.Email }}" } },
  ],
  edges: [{ from: "t", to: "post" }],
  layout: { t: { x: 0, y: 0 }, post: { x: 0, y: 120 } },
});
const ok = <T,>(data: T) => Promise.resolve({ status: "ok" as const, data });
const calls: string[] = [];

vi.mock("../bindings", () => ({
  events: { flowsChanged: { listen: () => Promise.resolve(() => {}) } },
  commands: {
    listFlows: () =>
      ok([{ info: { name: "Contacts to the ERP", enabled: false, start: "Contact created every 60 s", every_seconds: 60, nodes: 2, updated_at: "" }, runner: null, last_run: null, errors_today: 0 }]),
    getFlow: () => ok(saved),
    checkFlow: (text: string) => {
      calls.push("check");
      return ok(text.includes("https://erp/x") ? [] : [{ node: "post", message: "url is wrong" }]);
    },
    listRuns: () => ok([]),
    listConnections: () => ok([]),
    listObjects: () => ok([]),
    describeObject: () => ok({ name: "Contact", label: "Contact", fields: [] }),
    deleteFlow: (name: string) => {
      calls.push(`delete ${name}`);
      return ok(null);
    },
    saveFlow: (text: string) => {
      calls.push(`save ${JSON.parse(text).nodes.length}`);
      return ok({ name: "Contacts to the ERP", enabled: false, start: "", every_seconds: 60, nodes: 3, updated_at: "" });
    },
  },
}));

beforeAll(() => {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
  HTMLElement.prototype.getBoundingClientRect = () =>
    ({ x: 0, y: 0, top: 0, left: 0, width: 600, height: 400, right: 600, bottom: 400, toJSON: () => ({}) }) as DOMRect;
  for (const [prop, size] of [["offsetHeight", 400], ["offsetWidth", 600], ["clientHeight", 400], ["clientWidth", 600]] as const)
    Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => size });
});

import Flows from "./Flows";

describe("the Flows screen", () => {
  it("opens a saved flow on the canvas, adds a node from the palette, undoes it, and saves", async () => {
    render(
      <QueryClientProvider client={new QueryClient()}>
        <Flows openRun={() => {}} />
      </QueryClientProvider>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Open flow Contacts to the ERP" }));
    await waitFor(() => expect(document.querySelector('[data-node="post"]')).not.toBeNull());
    expect(screen.getByText("saved")).toBeTruthy();

    fireEvent.click(document.querySelector('[data-node="post"]')!);
    fireEvent.click(document.querySelector('[data-palette="csv.append"]')!);
    await waitFor(() => expect(document.querySelector('[data-node="csv"]')).not.toBeNull());
    expect(screen.getByText("unsaved")).toBeTruthy();
    expect((screen.getByLabelText("Node id") as HTMLInputElement).value).toBe("csv");

    fireEvent.click(screen.getByRole("button", { name: "Undo" }));
    await waitFor(() => expect(document.querySelector('[data-node="csv"]')).toBeNull());
    expect(screen.getByText("saved")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Redo" }));
    await waitFor(() => expect(document.querySelector('[data-node="csv"]')).not.toBeNull());

    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls).toContain("save 3"));
    await waitFor(() => expect(screen.getByText("saved")).toBeTruthy());

    // Delete asks first, then leaves the editor for the list.
    window.confirm = () => true;
    fireEvent.click(screen.getByRole("button", { name: "Delete…" }));
    await waitFor(() => expect(calls).toContain("delete Contacts to the ERP"));
    await screen.findByRole("button", { name: "New flow" });
  });
});
