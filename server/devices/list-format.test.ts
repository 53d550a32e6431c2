import { describe, expect, test } from "bun:test";
import { JsonBytes } from "./list-json.ts";

const utf8 = (s: string) => Buffer.from(s, "utf8");
const written = (write: (w: JsonBytes) => unknown) => {
  const w = new JsonBytes();
  write(w);
  return w.bytes().toString("utf8");
};

describe("the device list's JSON written from PostgreSQL's column bytes", () => {
  test("UTC timestamp text becomes Date.toISOString()'s form, milliseconds truncated", () => {
    for (const [pg, iso] of [
      ["2026-12-01 23:45:23.611234", "2026-12-01T23:45:23.611Z"],
      ["2026-12-01 23:45:23.6119", "2026-12-01T23:45:23.611Z"],
      ["2026-12-01 23:45:23.5", "2026-12-01T23:45:23.500Z"],
      ["2026-12-01 23:45:23.05", "2026-12-01T23:45:23.050Z"],
      ["2026-01-09 00:00:00", "2026-01-09T00:00:00.000Z"],
    ] as const) {
      expect(written((w) => w.time(utf8(pg)))).toBe(`"${iso}"`);
      expect(new Date(iso).toISOString()).toBe(iso);
    }
    expect(written((w) => w.time(null))).toBe("null");
    expect(written((w) => w.time(utf8("infinity")))).toBe('"infinity"');
  });

  test("text is escaped exactly as JSON.stringify escapes it", () => {
    const samples = [
      "sim-1",
      "",
      'quote " and backslash \\',
      "tab\tnew line\nreturn\r nul\u0000 bell\u0007 unit sep\u001f del\u007f",
      "Ünïcödé — 東京 🚀 \u2028\u2029",
      "$(rm -rf /); `id` <script>alert(1)</script>",
    ];
    for (const s of samples) {
      const out = written((w) => w.str(utf8(s)));
      expect(out).toBe(JSON.stringify(s));
      expect(JSON.parse(out)).toBe(s);
    }
    expect(written((w) => w.str(null))).toBe("null");
  });

  test("numbers pass through as PostgreSQL prints them; NaN and infinities become null", () => {
    for (const n of ["0", "12.5", "-0", "1e+21", "3.4028235e+38", "1.2e-07", "9223372036854775807"])
      expect(JSON.parse(written((w) => w.num(utf8(n))))).toBe(Number(n));
    for (const n of ["NaN", "Infinity", "-Infinity"]) expect(written((w) => w.num(utf8(n)))).toBe("null");
    expect(written((w) => w.num(null))).toBe("null");
  });

  test("the buffer grows past its first size and keeps what was written", () => {
    const long = "x".repeat(50_000);
    const out = written((w) => {
      w.ascii("[");
      for (let i = 0; i < 5; i++) w.ascii(i ? "," : "").str(utf8(`${long}"${i}`));
      w.ascii("]");
    });
    expect(JSON.parse(out)).toEqual([0, 1, 2, 3, 4].map((i) => `${long}"${i}`));
  });
});
