import { useMemo, useRef } from "react";
import { getCoreRowModel, useReactTable, type ColumnDef } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";

const ROW_HEIGHT = 28;
const NO_ROWS: string[][] = [];

/** Enough room for the header and the longest of the first 200 values. */
export function columnWidth(header: string, rows: string[][], column: number): number {
  let longest = header.length;
  for (const row of rows.slice(0, 200)) longest = Math.max(longest, (row[column] ?? "").length);
  // 9.6 px a character covers 14 px DejaVu Sans capitals and digits, so an
  // 18-character Id shows whole (8.8 cut the Ids off).
  return Math.min(360, Math.max(80, Math.round(longest * 9.6 + 22)));
}

/** Rows of text in a virtualized grid: only the visible rows are in the
 * page, so 50,000 rows scroll like 50. The table models the columns; cells
 * are read straight from `rows`, which may grow in place between renders
 * (pages arriving), so no page copies or rebuilds the rows before it. */
export function RecordGrid({ columns, rows }: { columns: string[]; rows: string[][] }) {
  const scroller = useRef<HTMLDivElement>(null);
  // Widths from the header and the first rows; later pages keep them.
  const sampled = rows.length > 0;
  const columnDefs = useMemo<ColumnDef<string[]>[]>(
    () =>
      columns.map((name, i) => ({
        id: `${i}:${name}`,
        header: name,
        size: columnWidth(name, rows, i),
      })),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [columns, sampled],
  );
  const table = useReactTable({ data: NO_ROWS, columns: columnDefs, getCoreRowModel: getCoreRowModel() });
  const leafColumns = table.getVisibleLeafColumns();
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: { width: 800, height: 400 },
  });
  // The row number column fits the largest number.
  const numWidth = Math.max(48, String(rows.length).length * 9 + 22);
  const width = table.getTotalSize() + numWidth;
  return (
    <div className="grid" ref={scroller} data-testid="record-grid">
      <div className="grid-head" style={{ width }}>
        <div className="grid-cell grid-num" style={{ width: numWidth }}>
          #
        </div>
        {table.getHeaderGroups()[0]?.headers.map((h) => (
          <div key={h.id} className="grid-cell" style={{ width: h.getSize() }} title={String(h.column.columnDef.header)}>
            {String(h.column.columnDef.header)}
          </div>
        ))}
      </div>
      <div style={{ height: virtualizer.getTotalSize(), width, position: "relative" }}>
        {virtualizer.getVirtualItems().map((v) => (
          <div
            key={v.index}
            className="grid-row"
            data-row={v.index}
            style={{ transform: `translateY(${v.start}px)`, height: ROW_HEIGHT }}
          >
            <div className="grid-cell grid-num" style={{ width: numWidth }}>
              {v.index + 1}
            </div>
            {leafColumns.map((column, i) => {
              const value = rows[v.index][i] ?? "";
              return (
                <div key={column.id} className="grid-cell" style={{ width: column.getSize() }} title={value}>
                  {value}
                </div>
              );
            })}
          </div>
        ))}
      </div>
    </div>
  );
}
