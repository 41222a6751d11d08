/** The flow editor's model: the flow file as the canvas edits it, the node
 * kinds and their params, the edges a user may draw, the names a template
 * can use, and undo/redo. Pure, so it is tested without a window. */
import type { BranchSide, FlowFile_Serialize, Json } from "../bindings";

export type Params = { [key: string]: Json };
export interface DraftNode {
  id: string;
  type: string;
  params: Params;
}
export interface DraftEdge {
  from: string;
  to: string;
  branch?: BranchSide;
}
/** A flow file being edited: the file's own shape (what Save sends). */
export interface Draft {
  version: number;
  name: string;
  nodes: DraftNode[];
  edges: DraftEdge[];
  layout: { [id: string]: { x: number; y: number } };
}

/** How one param is edited in the properties panel. */
export type ParamKind =
  | "connection"
  | "object"
  | "fields"
  | "external-id"
  | "choice"
  | "number"
  | "text"
  | "template"
  | "condition"
  | "map"
  | "json";

export interface ParamSpec {
  key: string;
  label: string;
  kind: ParamKind;
  optional?: boolean;
  hint?: string;
  options?: [string, string][];
  /** For `map`: what the keys are (an object's fields, or free names). */
  keys?: "fields" | "names";
}

export interface NodeKind {
  type: string;
  label: string;
  group: "Start" | "Steps" | "Salesforce" | "Other";
  what: string;
  start?: boolean;
  defaults: Params;
  params: ParamSpec[];
}

const CONNECTION: ParamSpec = { key: "connection", label: "Connection", kind: "connection" };
const OBJECT: ParamSpec = { key: "object", label: "Object", kind: "object" };
const ID: ParamSpec = { key: "id", label: "Record Id", kind: "template", hint: "{{ record.Id }}" };
const METHODS: [string, string][] = ["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => [m, m]);

export const NODE_KINDS: NodeKind[] = [
  {
    type: "salesforce.trigger",
    label: "Salesforce trigger",
    group: "Start",
    what: "Fires once per record created, updated, deleted or restored.",
    start: true,
    defaults: { connection: "", object: "", on: "created_or_updated", every_seconds: 60, fields: ["Id"], start: "now" },
    params: [
      CONNECTION,
      OBJECT,
      {
        key: "on",
        label: "Fires when a record is",
        kind: "choice",
        options: [
          ["created", "created"],
          ["updated", "updated"],
          ["created_or_updated", "created or updated"],
          ["deleted", "deleted (in the recycle bin, 15 days)"],
          ["restored", "restored from the recycle bin"],
        ],
      },
      { key: "fields", label: "Fields it reads", kind: "fields" },
      { key: "where", label: "Only records where (SOQL)", kind: "text", optional: true, hint: "Email != null" },
      { key: "every_seconds", label: "Poll every (seconds)", kind: "number" },
      { key: "start", label: "Start from", kind: "text", optional: true, hint: "now, or 2026-01-31T09:00:00Z" },
    ],
  },
  {
    type: "schedule",
    label: "Schedule",
    group: "Start",
    what: "Runs the steps on a timer (an interval or a cron line).",
    start: true,
    defaults: { every_minutes: 15 },
    params: [
      { key: "every_seconds", label: "Every (seconds)", kind: "number", optional: true },
      { key: "every_minutes", label: "Every (minutes)", kind: "number", optional: true },
      { key: "every_hours", label: "Every (hours)", kind: "number", optional: true },
      { key: "cron", label: "Or a cron line", kind: "text", optional: true, hint: "0 8 * * 1-5 (8:00 on weekdays)" },
    ],
  },
  {
    type: "filter",
    label: "Filter",
    group: "Steps",
    what: "Lets a record through only when the condition holds.",
    defaults: { condition: "record.Id is not none" },
    params: [{ key: "condition", label: "Condition", kind: "condition", hint: "record.Email is not none" }],
  },
  {
    type: "set",
    label: "Set fields",
    group: "Steps",
    what: "Computes values for the steps after it (nodes.ID.name).",
    defaults: { fields: {} },
    params: [{ key: "fields", label: "Values", kind: "map", keys: "names" }],
  },
  {
    type: "branch",
    label: "Branch (if / else)",
    group: "Steps",
    what: "Sends the record down the then or the else side.",
    defaults: { condition: "record.Id is not none" },
    params: [{ key: "condition", label: "Condition", kind: "condition" }],
  },
  {
    type: "salesforce.create",
    label: "Create record",
    group: "Salesforce",
    what: "Creates a record.",
    defaults: { connection: "", object: "", fields: {} },
    params: [CONNECTION, OBJECT, { key: "fields", label: "Fields", kind: "map", keys: "fields" }],
  },
  {
    type: "salesforce.update",
    label: "Update record",
    group: "Salesforce",
    what: "Updates a record by its Id.",
    defaults: { connection: "", object: "", id: "{{ record.Id }}", fields: {} },
    params: [CONNECTION, OBJECT, ID, { key: "fields", label: "Fields", kind: "map", keys: "fields" }],
  },
  {
    type: "salesforce.upsert",
    label: "Upsert record",
    group: "Salesforce",
    what: "Creates or updates a record matched on an external id.",
    defaults: { connection: "", object: "", external_id: "", fields: {} },
    params: [
      CONNECTION,
      OBJECT,
      { key: "external_id", label: "Match on (external id)", kind: "external-id" },
      { key: "fields", label: "Fields (set the external id too)", kind: "map", keys: "fields" },
    ],
  },
  {
    type: "salesforce.delete",
    label: "Delete record",
    group: "Salesforce",
    what: "Moves a record to the recycle bin.",
    defaults: { connection: "", id: "{{ record.Id }}" },
    params: [CONNECTION, { ...OBJECT, optional: true }, ID],
  },
  {
    type: "salesforce.get",
    label: "Get record",
    group: "Salesforce",
    what: "Reads one record by its Id.",
    defaults: { connection: "", object: "", id: "{{ record.Id }}", fields: ["Id"] },
    params: [CONNECTION, OBJECT, ID, { key: "fields", label: "Fields", kind: "fields" }],
  },
  {
    type: "salesforce.query",
    label: "Get records",
    group: "Salesforce",
    what: "Finds records (conditions, sort, limit) or runs a SOQL query.",
    defaults: { connection: "", object: "", fields: ["Id"], conditions: [], limit: 100 },
    params: [
      CONNECTION,
      { ...OBJECT, optional: true },
      { key: "fields", label: "Fields", kind: "fields", optional: true },
      {
        key: "conditions",
        label: "Conditions",
        kind: "json",
        optional: true,
        hint: '[{"field": "Email", "op": "=", "value": "{{ record.Email }}"}]',
      },
      { key: "join", label: "Join conditions with", kind: "choice", optional: true, options: [["and", "and"], ["or", "or"]] },
      { key: "limit", label: "At most", kind: "number", optional: true },
      { key: "soql", label: "Or a SOQL query (instead of the above)", kind: "template", optional: true },
    ],
  },
  {
    type: "salesforce.search",
    label: "Search (SOSL)",
    group: "Salesforce",
    what: "Searches text across objects.",
    defaults: { connection: "", sosl: "FIND {Acme} IN ALL FIELDS RETURNING Account(Id, Name)" },
    params: [CONNECTION, { key: "sosl", label: "SOSL", kind: "template" }],
  },
  {
    type: "salesforce.request",
    label: "Salesforce request",
    group: "Salesforce",
    what: "Calls any REST path of the org's API.",
    defaults: { connection: "", method: "GET", path: "limits" },
    params: [
      CONNECTION,
      { key: "method", label: "Method", kind: "choice", options: METHODS },
      { key: "path", label: "Path (under /services/data/vXX.X/)", kind: "template" },
      { key: "query", label: "Query parameters", kind: "map", keys: "names", optional: true },
      { key: "body", label: "JSON body", kind: "template", optional: true },
    ],
  },
  {
    type: "http.request",
    label: "HTTP request",
    group: "Other",
    what: "Sends a request to any URL, with an Idempotency-Key.",
    defaults: { method: "POST", url: "https://", headers: { "Content-Type": "application/json" }, body: "{{ record | tojson }}" },
    params: [
      { key: "method", label: "Method", kind: "choice", options: METHODS },
      { key: "url", label: "URL", kind: "template" },
      { key: "headers", label: "Headers", kind: "map", keys: "names", optional: true },
      { key: "body", label: "Body", kind: "template", optional: true },
    ],
  },
  {
    type: "csv.append",
    label: "Append to CSV",
    group: "Other",
    what: "Adds a row to a CSV file on this machine.",
    defaults: { path: "", columns: { Id: "{{ record.Id }}" } },
    params: [
      { key: "path", label: "File", kind: "text", hint: "/home/me/contacts.csv" },
      { key: "columns", label: "Columns", kind: "map", keys: "names" },
    ],
  },
];

export function kindOf(type: string): NodeKind | undefined {
  return NODE_KINDS.find((k) => k.type === type);
}

export function isStart(type: string): boolean {
  return !!kindOf(type)?.start;
}

export function emptyDraft(name = "New flow"): Draft {
  return { version: 1, name, nodes: [], edges: [], layout: {} };
}

/** Reads a flow file's text into a draft (missing parts filled in). */
export function parseDraft(text: string): Draft {
  const f = JSON.parse(text) as Partial<FlowFile_Serialize>;
  if (typeof f !== "object" || f === null || !Array.isArray(f.nodes)) {
    throw new Error("This is not a flow file: it has no nodes list.");
  }
  return {
    version: f.version ?? 1,
    name: f.name ?? "Imported flow",
    nodes: f.nodes.map((n) => ({ id: n.id, type: n.type, params: (n.params as Params) ?? {} })),
    edges: (f.edges ?? []).map((e) => (e.branch ? { from: e.from, to: e.to, branch: e.branch } : { from: e.from, to: e.to })),
    layout: (f.layout ?? {}) as Draft["layout"],
  };
}

/** The flow file's text, as Save and Export write it. */
export function draftText(d: Draft): string {
  return JSON.stringify(d, null, 2);
}

/** A new node id from its type: `http`, `http2`, … (short, readable in templates). */
export function newId(d: Draft, type: string): string {
  const base =
    {
      "salesforce.trigger": "trigger",
      schedule: "schedule",
      "salesforce.create": "create",
      "salesforce.update": "update",
      "salesforce.upsert": "upsert",
      "salesforce.delete": "delete",
      "salesforce.get": "get",
      "salesforce.query": "query",
      "salesforce.search": "search",
      "salesforce.request": "request",
      "http.request": "http",
      "csv.append": "csv",
    }[type] ?? type;
  const taken = new Set(d.nodes.map((n) => n.id));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

/** Adds a node of a kind, placed after `after` (and connected from it)
 * or below the lowest node. A start node is never connected into. */
export function addNode(d: Draft, type: string, after: string | null, at?: { x: number; y: number }): [Draft, string] {
  const kind = kindOf(type);
  const id = newId(d, type);
  const params = structuredClone(kind?.defaults ?? {});
  const from = after && d.nodes.some((n) => n.id === after) && !kind?.start ? after : null;
  const fromAt = from ? d.layout[from] : undefined;
  const lowest = Math.max(-120, ...d.nodes.map((n) => d.layout[n.id]?.y ?? 0));
  const position = at ?? (fromAt ? { x: fromAt.x, y: fromAt.y + 120 } : { x: 0, y: lowest + 120 });
  const edges = [...d.edges];
  if (from) {
    const source = d.nodes.find((n) => n.id === from);
    const edge: DraftEdge = { from, to: id };
    if (source?.type === "branch") {
      edge.branch = d.edges.some((e) => e.from === from && e.branch === "then") ? "else" : "then";
    }
    edges.push(edge);
  }
  return [{ ...d, nodes: [...d.nodes, { id, type, params }], edges, layout: { ...d.layout, [id]: position } }, id];
}

export function removeNodes(d: Draft, ids: string[]): Draft {
  const gone = new Set(ids);
  const layout = { ...d.layout };
  ids.forEach((id) => delete layout[id]);
  return {
    ...d,
    nodes: d.nodes.filter((n) => !gone.has(n.id)),
    edges: d.edges.filter((e) => !gone.has(e.from) && !gone.has(e.to)),
    layout,
  };
}

export function setParams(d: Draft, id: string, params: Params): Draft {
  return { ...d, nodes: d.nodes.map((n) => (n.id === id ? { ...n, params } : n)) };
}

/** Renames a node and every edge and layout entry that names it (templates
 * that say `nodes.OLD` are the user's to change: the check names them). */
export function renameNode(d: Draft, from: string, to: string): Draft {
  if (from === to || d.nodes.some((n) => n.id === to)) return d;
  const layout: Draft["layout"] = {};
  for (const [k, v] of Object.entries(d.layout)) layout[k === from ? to : k] = v;
  return {
    ...d,
    nodes: d.nodes.map((n) => (n.id === from ? { ...n, id: to } : n)),
    edges: d.edges.map((e) => ({ ...e, from: e.from === from ? to : e.from, to: e.to === from ? to : e.to })),
    layout,
  };
}

/** The nodes `id` can be reached from (its upstream). */
export function upstream(d: Draft, id: string): string[] {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const at = stack.pop()!;
    for (const e of d.edges) {
      if (e.to === at && !seen.has(e.from)) {
        seen.add(e.from);
        stack.push(e.from);
      }
    }
  }
  return d.nodes.map((n) => n.id).filter((n) => seen.has(n));
}

/** Why an edge cannot be drawn, or null when it can. */
export function edgeProblem(d: Draft, from: string, to: string, branch?: BranchSide | null): string | null {
  if (from === to) return "A node cannot feed itself.";
  const target = d.nodes.find((n) => n.id === to);
  if (!target) return "No such node.";
  if (isStart(target.type)) return "A start node has nothing before it.";
  if (d.edges.some((e) => e.from === from && e.to === to && (e.branch ?? null) === (branch ?? null))) {
    return "These nodes are connected already.";
  }
  if (upstream(d, from).includes(to)) return "That would make a loop.";
  return null;
}

export function connect(d: Draft, from: string, to: string, branch?: BranchSide | null): Draft {
  if (edgeProblem(d, from, to, branch)) return d;
  const edge: DraftEdge = branch ? { from, to, branch } : { from, to };
  return { ...d, edges: [...d.edges, edge] };
}

export function edgeKey(e: DraftEdge): string {
  return `${e.from}->${e.to}${e.branch ? `:${e.branch}` : ""}`;
}

export function disconnect(d: Draft, keys: string[]): Draft {
  const gone = new Set(keys);
  return { ...d, edges: d.edges.filter((e) => !gone.has(edgeKey(e))) };
}

/** What a node's templates and conditions can name: the start's record
 * fields and the upstream nodes (with the keys a test showed they give). */
export function templateNames(d: Draft, id: string, outputs: { [node: string]: Json } = {}): string[] {
  const start = d.nodes.find((n) => isStart(n.type));
  const names: string[] = [];
  if (start?.type === "schedule") names.push("record.scheduled_at");
  else if (start) {
    const fields = Array.isArray(start.params.fields) ? (start.params.fields as string[]) : [];
    for (const f of ["Id", ...fields, "CreatedDate", "SystemModstamp", "IsDeleted"]) {
      if (!names.includes(`record.${f}`)) names.push(`record.${f}`);
    }
  }
  for (const up of upstream(d, id)) {
    if (up === start?.id) continue;
    names.push(`nodes.${up}`);
    const out = outputs[up];
    if (out && typeof out === "object" && !Array.isArray(out)) {
      for (const k of Object.keys(out)) names.push(`nodes.${up}.${k}`);
    }
  }
  return names;
}

export interface TemplateCompletion {
  from: number;
  to: number;
  items: string[];
}

/** Names to offer at the cursor of a template (`{{ rec|`) or a condition
 * (`rec|`): the dotted word being typed, inside `{{ }}` for templates. */
export function completeTemplate(
  text: string,
  cursor: number,
  names: string[],
  expression: boolean,
): TemplateCompletion | null {
  const before = text.slice(0, cursor);
  if (!expression) {
    const open = before.lastIndexOf("{{");
    if (open < 0 || before.lastIndexOf("}}") > open) return null;
  }
  const word = /[A-Za-z0-9_.]*$/.exec(before)?.[0] ?? "";
  const lower = word.toLowerCase();
  const items = names.filter((n) => n.toLowerCase().startsWith(lower) && n !== word).slice(0, 30);
  if (items.length === 0) return null;
  return { from: cursor - word.length, to: cursor, items };
}

/** Undo and redo over whole drafts (a drag is one step: checkpoint at its
 * start, replace while it moves). */
export interface History {
  past: Draft[];
  present: Draft;
  future: Draft[];
}

export type HistoryAction =
  | { type: "commit"; draft: Draft }
  | { type: "checkpoint" }
  | { type: "replace"; draft: Draft }
  | { type: "undo" }
  | { type: "redo" }
  | { type: "reset"; draft: Draft };

const KEEP = 100;

export function history(h: History, a: HistoryAction): History {
  switch (a.type) {
    case "commit":
      if (a.draft === h.present) return h;
      return { past: [...h.past, h.present].slice(-KEEP), present: a.draft, future: [] };
    case "checkpoint":
      return { past: [...h.past, h.present].slice(-KEEP), present: h.present, future: [] };
    case "replace":
      return { ...h, present: a.draft };
    case "undo":
      if (h.past.length === 0) return h;
      return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1], future: [h.present, ...h.future] };
    case "redo":
      if (h.future.length === 0) return h;
      return { past: [...h.past, h.present], present: h.future[0], future: h.future.slice(1) };
    case "reset":
      return { past: [], present: a.draft, future: [] };
  }
}

/** A node's one-line summary on the canvas. */
export function summary(n: DraftNode): string {
  const p = n.params;
  const s = (k: string) => (typeof p[k] === "string" ? (p[k] as string) : "");
  switch (n.type) {
    case "salesforce.trigger":
      return [s("object") || "(object?)", (s("on") || "").replace(/_/g, " "), p.every_seconds ? `every ${p.every_seconds} s` : ""]
        .filter(Boolean)
        .join(" · ");
    case "schedule":
      if (s("cron")) return `cron ${s("cron")}`;
      if (p.every_seconds) return `every ${p.every_seconds} s`;
      if (p.every_minutes) return `every ${p.every_minutes} min`;
      if (p.every_hours) return `every ${p.every_hours} h`;
      return "(when?)";
    case "filter":
    case "branch":
      return s("condition");
    case "http.request":
      return `${s("method")} ${s("url")}`;
    case "csv.append":
      return s("path") || "(file?)";
    case "salesforce.request":
      return `${s("method")} ${s("path")}`;
    case "salesforce.search":
      return s("sosl");
    case "set":
      return Object.keys((p.fields as object) ?? {}).join(", ") || "(no values)";
    default:
      return s("object") || s("soql") || "";
  }
}
