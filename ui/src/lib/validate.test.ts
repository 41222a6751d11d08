import { describe, expect, it } from "vitest";
import { environmentOf, validateDraft, type ConnectionDraft } from "./validate";

const good: ConnectionDraft = {
  name: "Prod",
  environment: "production",
  myDomainUrl: "",
  clientId: "3MVG9abc",
  clientSecret: "",
  callbackPort: "1717",
};

describe("New connection form", () => {
  it("accepts a complete draft", () => {
    expect(validateDraft(good, ["Other"])).toEqual({});
    expect(environmentOf(good)).toBe("production");
  });

  it("says what is wrong with each field", () => {
    const e = validateDraft({ ...good, name: " ", clientId: "", callbackPort: "80" }, []);
    expect(e.name).toMatch(/name/);
    expect(e.clientId).toMatch(/consumer key/);
    expect(e.callbackPort).toMatch(/1024/);
    expect(validateDraft({ ...good, callbackPort: "17a" }, []).callbackPort).toBeDefined();
  });

  it("refuses a name that is taken, whatever its case", () => {
    expect(validateDraft(good, ["prod"]).name).toMatch(/exists already/);
  });

  it("wants https for My Domain, except on this machine", () => {
    const md = { ...good, environment: "mydomain" as const };
    expect(validateDraft({ ...md, myDomainUrl: "acme" }, []).myDomainUrl).toMatch(/My Domain URL/);
    expect(validateDraft({ ...md, myDomainUrl: "http://acme.my.salesforce.com" }, []).myDomainUrl).toMatch(/https/);
    expect(validateDraft({ ...md, myDomainUrl: "https://acme.my.salesforce.com" }, [])).toEqual({});
    expect(validateDraft({ ...md, myDomainUrl: "http://127.0.0.1:7717" }, [])).toEqual({});
    expect(environmentOf({ ...md, myDomainUrl: " https://acme.my.salesforce.com " })).toBe("https://acme.my.salesforce.com");
  });
});
