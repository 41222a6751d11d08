import { describe, expect, it } from "vitest";
import { apply, complete, fromObject } from "./complete";

const objects = ["Account", "AccountContactRelation", "Contact", "Opportunity"];
const fields = ["Id", "Name", "NumberOfEmployees", "Industry", "OwnerId"];

describe("SOQL completion", () => {
  it("offers objects after FROM", () => {
    const soql = "SELECT Id FROM Acc";
    const c = complete(soql, soql.length, objects, fields);
    expect(c?.items).toEqual(["Account", "AccountContactRelation"]);
    expect(c?.from).toBe(soql.length - 3);
  });

  it("offers the FROM object's fields in the select list, even before FROM is reached", () => {
    const soql = "SELECT Na FROM Account";
    const c = complete(soql, "SELECT Na".length, objects, fields);
    expect(c?.items).toEqual(["Name"]);
    const [text, cursor] = apply(soql, c!, "Name");
    expect(text).toBe("SELECT Name FROM Account");
    expect(cursor).toBe("SELECT Name".length);
  });

  it("offers fields in WHERE and ORDER BY, case-insensitively", () => {
    const soql = "SELECT Id FROM Account WHERE ind";
    expect(complete(soql, soql.length, objects, fields)?.items).toEqual(["Industry"]);
    const ordered = "SELECT Id FROM Account ORDER BY n";
    expect(complete(ordered, ordered.length, objects, fields)?.items).toEqual(["Name", "NumberOfEmployees"]);
  });

  it("offers nothing for a finished word, a LIMIT or a relationship path", () => {
    expect(complete("SELECT Name", 11, objects, fields)).toBeNull();
    expect(complete("SELECT Id FROM Account LIMIT 1", 30, objects, fields)).toBeNull();
    expect(complete("SELECT Account.Na FROM Contact", 17, objects, fields)).toBeNull();
    expect(complete("Acc", 3, objects, fields)).toBeNull();
  });

  it("finds the object being queried", () => {
    expect(fromObject("select id\nfrom  Contact where x = 1")).toBe("Contact");
    expect(fromObject("SELECT Id")).toBeNull();
  });
});
