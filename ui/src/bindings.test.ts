import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { commands } from "./bindings";
import { ProblemError, unwrap } from "./lib/api";

afterEach(() => clearMocks());

describe("generated bindings", () => {
  it("call the Rust command by its name with camelCase arguments", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === "list_objects" ? [{ name: "Account", label: "Account", custom: false, queryable: true }] : null;
    });
    const objects = await unwrap(commands.listObjects("Prod"));
    expect(objects[0].name).toBe("Account");
    await commands.saveSettings({ default_api_version: "62.0", playground_port: 7717 });
    expect(calls).toEqual([
      ["list_objects", { connection: "Prod" }],
      ["save_settings", { change: { default_api_version: "62.0", playground_port: 7717 } }],
    ]);
  });

  it("carry a command's problem as {kind, message, detail}", async () => {
    mockIPC(() => {
      throw { kind: "needs_grant", message: "the sign-in expired", detail: "Click Grant access." };
    });
    const answer = await commands.testConnection("Prod");
    expect(answer).toEqual({
      status: "error",
      error: { kind: "needs_grant", message: "the sign-in expired", detail: "Click Grant access." },
    });
    await expect(unwrap(commands.testConnection("Prod"))).rejects.toBeInstanceOf(ProblemError);
  });
});
