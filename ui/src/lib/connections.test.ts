import { describe, expect, it } from "vitest";
import { effectiveChoice } from "./connections";

describe("the connection a screen works on", () => {
  it("is the one the user chose, while it exists", () => {
    expect(effectiveChoice("Prod", ["Playground", "Prod"])).toBe("Prod");
  });

  it("is the only connection when nothing (or a removed one) was chosen", () => {
    expect(effectiveChoice("", ["Playground"])).toBe("Playground");
    expect(effectiveChoice("Removed", ["Playground"])).toBe("Playground");
  });

  it("is left to the user when there are several, or none", () => {
    expect(effectiveChoice("", ["Playground", "Prod"])).toBe("");
    expect(effectiveChoice("Removed", [])).toBe("");
  });
});
