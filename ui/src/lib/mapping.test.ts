import { describe, expect, it } from "vitest";
import { duplicates, fromProposal, toMapFile, unmapped } from "./mapping";

describe("mapping table", () => {
  const cols = fromProposal([
    { header: "First", field: "FirstName", auto: true },
    { header: "Notes", field: null, auto: true },
    { header: "Acct", field: "Account.ERP_Id__c", auto: false },
  ]);

  it("marks how each column was matched", () => {
    expect(cols.map((c) => c.how)).toEqual(["auto", "none", "saved"]);
  });

  it("sends every column, the unmatched ones as not imported", () => {
    const map = toMapFile(cols, [{ field: " LeadSource ", value: "Web" }, { field: "", value: "x" }]);
    expect(map.columns).toEqual({ First: "FirstName", Notes: null, Acct: "Account.ERP_Id__c" });
    expect(map.constants).toEqual({ LeadSource: "Web" });
    expect(unmapped(cols)).toEqual(["Notes"]);
  });

  it("finds a field set twice, whatever its case", () => {
    const twice = [...cols, { header: "Given", field: "firstname", how: "manual" as const }];
    expect(duplicates(twice, [])).toEqual(["firstname"]);
    expect(duplicates(cols, [{ field: "FirstName", value: "A" }])).toEqual(["firstname"]);
  });
});
