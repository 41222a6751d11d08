import { describe, expect, it } from "vitest";
import {
  addNode,
  completeTemplate,
  connect,
  draftText,
  edgeProblem,
  emptyDraft,
  history,
  parseDraft,
  removeNodes,
  renameNode,
  templateNames,
  upstream,
  type Draft,
  type History,
} from "./flows";

/** trigger → filter → branch (then: http, else: csv) */
function sample(): Draft {
  let d = emptyDraft("Contacts to the ERP");
  let id: string;
  [d, id] = addNode(d, "salesforce.trigger", null);
  d.nodes[0].params = { ...d.nodes[0].params, connection: "Play", object: "Contact", fields: ["Email", "LastName"] };
  const trigger = id;
  [d, id] = addNode(d, "filter", trigger);
  const filter = id;
  [d, id] = addNode(d, "branch", filter);
  const branch = id;
  [d] = addNode(d, "http.request", branch);
  [d] = addNode(d, "csv.append", branch);
  return d;
}

describe("building a flow", () => {
  it("adds nodes below the one chosen, connected from it, with readable ids", () => {
    const d = sample();
    expect(d.nodes.map((n) => n.id)).toEqual(["trigger", "filter", "branch", "http", "csv"]);
    expect(d.edges).toEqual([
      { from: "trigger", to: "filter" },
      { from: "filter", to: "branch" },
      { from: "branch", to: "http", branch: "then" },
      { from: "branch", to: "csv", branch: "else" },
    ]);
    expect(d.layout.filter.y).toBeGreaterThan(d.layout.trigger.y);
    const [again, id] = addNode(d, "http.request", "csv");
    expect(id).toBe("http2");
    expect(again.nodes).toHaveLength(6);
  });

  it("never connects into a start node, a node into itself, or a loop", () => {
    const d = sample();
    expect(edgeProblem(d, "filter", "trigger")).toMatch(/start node/);
    expect(edgeProblem(d, "http", "http")).toMatch(/itself/);
    expect(edgeProblem(d, "csv", "filter")).toMatch(/loop/);
    expect(edgeProblem(d, "trigger", "filter")).toMatch(/already/);
    expect(edgeProblem(d, "trigger", "csv")).toBeNull();
    expect(connect(d, "csv", "filter").edges).toHaveLength(d.edges.length);
    expect(connect(d, "trigger", "csv").edges).toHaveLength(d.edges.length + 1);
    const [withStart] = addNode(d, "schedule", "csv");
    expect(withStart.edges).toHaveLength(d.edges.length);
  });

  it("removing a node removes its edges; renaming carries edges and layout", () => {
    const d = sample();
    const without = removeNodes(d, ["branch"]);
    expect(without.edges).toEqual([{ from: "trigger", to: "filter" }]);
    expect(without.layout.branch).toBeUndefined();
    const renamed = renameNode(d, "http", "post");
    expect(renamed.edges[2]).toEqual({ from: "branch", to: "post", branch: "then" });
    expect(renamed.layout.post).toEqual(d.layout.http);
    expect(renameNode(d, "http", "csv")).toBe(d);
  });

  it("reads and writes the flow file as it is kept in git", () => {
    const d = sample();
    const back = parseDraft(draftText(d));
    expect(back).toEqual(d);
    expect(() => parseDraft('{"name": "x"}')).toThrow(/no nodes/);
    const minimal = parseDraft('{"version":1,"name":"N","nodes":[{"id":"t","type":"schedule","params":{"every_minutes":5}}]}');
    expect(minimal.edges).toEqual([]);
    expect(minimal.layout).toEqual({});
  });
});

describe("templates", () => {
  it("name the start's fields and the nodes upstream, with what a test showed", () => {
    const d = sample();
    expect(upstream(d, "http")).toEqual(["trigger", "filter", "branch"]);
    const names = templateNames(d, "http", { filter: { kept: true } });
    expect(names).toContain("record.Id");
    expect(names).toContain("record.Email");
    expect(names).toContain("nodes.branch");
    expect(names).toContain("nodes.filter.kept");
    expect(names).not.toContain("nodes.csv");
    expect(names).not.toContain("nodes.trigger");
  });

  it("complete inside {{ }} for templates, anywhere for conditions", () => {
    const names = ["record.Email", "record.Id", "nodes.set"];
    const text = '{"email": "{{ record.Em';
    const c = completeTemplate(text, text.length, names, false);
    expect(c).toEqual({ from: text.length - "record.Em".length, to: text.length, items: ["record.Email"] });
    expect(completeTemplate("{{ record.Id }} rec", 19, names, false)).toBeNull();
    expect(completeTemplate("rec", 3, names, true)?.items).toEqual(["record.Email", "record.Id"]);
  });
});

describe("undo and redo", () => {
  it("step through commits; a drag (checkpoint then replaces) is one step", () => {
    let h: History = { past: [], present: emptyDraft(), future: [] };
    const [a] = addNode(h.present, "schedule", null);
    h = history(h, { type: "commit", draft: a });
    const [b] = addNode(a, "filter", "schedule");
    h = history(h, { type: "commit", draft: b });
    h = history(h, { type: "checkpoint" });
    for (const y of [10, 20, 30]) {
      h = history(h, { type: "replace", draft: { ...h.present, layout: { ...h.present.layout, filter: { x: 0, y } } } });
    }
    expect(h.present.layout.filter.y).toBe(30);
    h = history(h, { type: "undo" });
    expect(h.present).toBe(b);
    h = history(h, { type: "undo" });
    expect(h.present).toBe(a);
    h = history(h, { type: "redo" });
    expect(h.present).toBe(b);
    h = history(h, { type: "commit", draft: emptyDraft() });
    expect(h.future).toEqual([]);
    expect(history(history(h, { type: "undo" }), { type: "undo" }).present).toBe(a);
  });
});
