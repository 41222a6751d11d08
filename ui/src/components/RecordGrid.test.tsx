import { beforeAll, describe, expect, it } from "vitest";
import { render } from "@testing-library/react";
import { RecordGrid } from "./RecordGrid";

// jsdom lays nothing out: give every element a 800x400 box, as a window would.
beforeAll(() => {
  HTMLElement.prototype.getBoundingClientRect = () =>
    ({ x: 0, y: 0, top: 0, left: 0, width: 800, height: 400, right: 800, bottom: 400, toJSON: () => ({}) }) as DOMRect;
  for (const [prop, size] of [["offsetHeight", 400], ["offsetWidth", 800], ["clientHeight", 400], ["clientWidth", 800]] as const)
    Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => size });
});

describe("RecordGrid", () => {
  it("puts only the visible rows of 50,000 in the page", () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => [`001${i}`, `Account ${i}`]);
    const { container } = render(<RecordGrid columns={["Id", "Name"]} rows={rows} />);
    const shown = container.querySelectorAll(".grid-row");
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(100);
    expect(shown[0].textContent).toContain("Account 0");
    const heads = [...container.querySelectorAll(".grid-head .grid-cell")].map((c) => c.textContent);
    expect(heads).toEqual(["#", "Id", "Name"]);
  });

  it("shows rows appended in place on the next render", () => {
    const rows: string[][] = [["a"]];
    const { container, rerender } = render(<RecordGrid columns={["Name"]} rows={rows} />);
    expect(container.querySelectorAll(".grid-row").length).toBe(1);
    rows.push(["b"], ["c"]);
    rerender(<RecordGrid columns={["Name"]} rows={rows} />);
    expect(container.querySelectorAll(".grid-row").length).toBe(3);
  });
});
