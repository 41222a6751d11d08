import type { ColumnChoice, MapFile } from "../bindings";

/** One row of the mapping table: a CSV column and the field it sets
 *  ("" = not imported). */
export interface MappedColumn {
  header: string;
  field: string;
  /** How the field was chosen, shown beside it. */
  how: "auto" | "saved" | "manual" | "none";
}

export interface Constant {
  field: string;
  value: string;
}

export function fromProposal(columns: ColumnChoice[]): MappedColumn[] {
  return columns.map((c) => ({
    header: c.header,
    field: c.field ?? "",
    how: c.field ? (c.auto ? "auto" : "saved") : "none",
  }));
}

/** The mapping an import is sent with: every column named, the ones not
 *  imported as null, so nothing is matched behind the user's back. */
export function toMapFile(columns: MappedColumn[], constants: Constant[]): MapFile {
  const map: MapFile = { columns: {}, constants: {} };
  for (const c of columns) map.columns![c.header] = c.field.trim() || null;
  for (const k of constants) if (k.field.trim()) map.constants![k.field.trim()] = k.value;
  return map;
}

export function constantsOf(map: MapFile): Constant[] {
  return Object.entries(map.constants ?? {}).map(([field, value]) => ({ field, value }));
}

/** Columns no field takes. */
export function unmapped(columns: MappedColumn[]): string[] {
  return columns.filter((c) => !c.field.trim()).map((c) => c.header);
}

/** Fields set by more than one column or constant. */
export function duplicates(columns: MappedColumn[], constants: Constant[]): string[] {
  const seen = new Map<string, number>();
  for (const f of [...columns.map((c) => c.field), ...constants.map((k) => k.field)]) {
    const key = f.trim().toLowerCase();
    if (key) seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.entries()].filter(([, n]) => n > 1).map(([f]) => f);
}
