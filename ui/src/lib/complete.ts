/** Completion for the SOQL console: object names after FROM, the FROM
 * object's field names elsewhere. Pure, so it is tested without a window. */
export interface Completion {
  /** The span of text the chosen item replaces. */
  from: number;
  to: number;
  items: string[];
}

const CLAUSES = /\b(SELECT|FROM|WHERE|ORDER\s+BY|GROUP\s+BY|HAVING|LIMIT|OFFSET|AND|OR|NOT|IN)\b/gi;

/** The object after FROM (the main query's), if any. */
export function fromObject(soql: string): string | null {
  const m = /\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(soql);
  return m ? m[1] : null;
}

function lastClause(before: string): string | null {
  let last: string | null = null;
  for (const m of before.matchAll(CLAUSES)) last = m[1].toUpperCase().replace(/\s+/g, " ");
  return last;
}

export function complete(
  soql: string,
  cursor: number,
  objects: string[],
  fields: string[],
  limit = 50,
): Completion | null {
  const before = soql.slice(0, cursor);
  const word = /[A-Za-z0-9_.]*$/.exec(before)?.[0] ?? "";
  // Relationship paths (Account.Name) need the parent's describe: not offered.
  if (word.includes(".")) return null;
  const from = cursor - word.length;
  const clause = lastClause(soql.slice(0, from));
  let pool: string[];
  if (clause === "FROM") pool = objects;
  else if (clause === null || clause === "LIMIT" || clause === "OFFSET") return null;
  else pool = fields;
  const prefix = word.toLowerCase();
  const items = pool
    .filter((n) => n.toLowerCase().startsWith(prefix) && n.toLowerCase() !== prefix)
    .sort((a, b) => a.localeCompare(b))
    .slice(0, limit);
  return items.length ? { from, to: cursor, items } : null;
}

/** `soql` with the completion's span replaced by `item`; the new cursor. */
export function apply(soql: string, c: Completion, item: string): [string, number] {
  return [soql.slice(0, c.from) + item + soql.slice(c.to), c.from + item.length];
}
