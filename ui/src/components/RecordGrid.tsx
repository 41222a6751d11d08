import { useMemo, useRef } from "react";
import { getCoreRowModel, useReactTable, type ColumnDef } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";

const ROW_HEIGHT = 28;

/** Enough room for the header and the longest of the first 200 values. */
export function columnWidth(header: string, rows: string[][], column: number): number {
  let longest = header.length;
  for (const row of rows.slice(0, 200)) longest = Math.max(longest, (row[column] ?? "").length);
  return Math.min(360, Math.max(80, Math.round(longest * 8.8 + 22)));
}

/** Rows of text in a virtualized grid: only the visible rows are in the
 * page, so 50,000 rows scroll like 50. `version` changes when rows were
 * appended in place. */
export function RecordGrid({ columns, rows, version }: { columns: string[]; rows: string[][]; version: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  // Widths from the header and the first rows; later pages keep them.
  const sampled = rows.length > 0;
  const columnDefs = useMemo<ColumnDef<string[]>[]>(
    () =>
      columns.map((name, i) => ({
        id: `${i}:${name}`,
        header: name,
        accessorFn: (row: string[]) => row[i] ?? "",
        size: columnWidth(name, rows, i),
      })),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [columns, sampled],
  );
  // A fresh array each version: the table recomputes its rows.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const data = useMemo(() => rows.slice(0), [rows, version]);
  const table = useReactTable({ data, columns: columnDefs, getCoreRowModel: getCoreRowModel() });
  const tableRows = table.getRowModel().rows;
  const virtualizer = useVirtualizer({
    count: tableRows.length,
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
        {virtualizer.getVirtualItems().map((v) => {
          const row = tableRows[v.index];
          return (
            <div
              key={row.id}
              className="grid-row"
              data-row={v.index}
              style={{ transform: `translateY(${v.start}px)`, height: ROW_HEIGHT }}
            >
              <div className="grid-cell grid-num" style={{ width: numWidth }}>
                {v.index + 1}
              </div>
              {row.getVisibleCells().map((cell) => (
                <div key={cell.id} className="grid-cell" style={{ width: cell.column.getSize() }} title={String(cell.getValue())}>
                  {String(cell.getValue())}
                </div>
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}
