import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "./config.ts";

const ROOT = join(import.meta.dir, "..");
const names = (text: string) => new Set([...text.matchAll(/SENTPULSE_[A-Z_]+[A-Z]/g)].map((m) => m[0]));

describe("configuration", () => {
  test("the README's table lists every setting the server reads, and no other", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("Device status:"));
    const documented = [...names(table)].sort();
    expect(documented).toEqual([...names(readFileSync(join(import.meta.dir, "config.ts"), "utf8"))].sort());
  });

  test("bad values stop the server with every bad variable named", () => {
    let message = "";
    try {
      loadConfig(
        {},
        {
          SENTPULSE_PORT: "70000",
          SENTPULSE_ALLOWED_ORIGINS: "https://ok.example.com, javascript:alert(1)",
          SENTPULSE_SECRET_ROTATION_S: "5",
        },
      );
    } catch (err) {
      message = String(err);
    }
    for (const name of ["SENTPULSE_PORT", "SENTPULSE_ALLOWED_ORIGINS", "SENTPULSE_SECRET_ROTATION_S"]) expect(message).toContain(name);
    expect(loadConfig({}, { SENTPULSE_ALLOWED_ORIGINS: "https://a.example.com, http://b.example.com:8443" }).allowedOrigins).toEqual([
      "https://a.example.com",
      "http://b.example.com:8443",
    ]);
  });
});
