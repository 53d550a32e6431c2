import { describe, expect, test } from "bun:test";
import { type DeviceSnapshot, ExpressionError, MAX_EXPRESSION_LENGTH, compileExpression } from "./expression.ts";

const device = (over: Partial<DeviceSnapshot> = {}): DeviceSnapshot => ({
  os: "linux",
  osVersion: "22.04",
  osName: "Ubuntu 22.04.4 LTS",
  arch: "x64",
  hostname: "db-01",
  cpuModel: "AMD EPYC 7543",
  memoryTotalBytes: 16 * 1024 ** 3,
  cpuCores: 8,
  agentVersion: "0.4.0",
  status: "online",
  siteName: "HQ",
  clientName: "Acme",
  tags: ["role=server", "env=prod", "pinned"],
  telemetry: { cpu: 85, memory: 40, disk: 70, load1: 1.5 },
  ...over,
});

const matches = (expr: string, d = device()) => compileExpression(expr)(d);
/** The error an expression is rejected with. */
function rejection(expr: string): ExpressionError {
  try {
    compileExpression(expr);
  } catch (err) {
    if (err instanceof ExpressionError) return err;
    throw err;
  }
  throw new Error(`accepted: ${expr}`);
}

describe("the issue's examples", () => {
  test('os = "linux" and tag.role = "server" and cpu > 80', () => {
    const e = 'os = "linux" and tag.role = "server" and cpu > 80';
    expect(matches(e)).toBe(true);
    expect(matches(e, device({ telemetry: { cpu: 80, memory: 0, disk: 0, load1: 0 } }))).toBe(false);
    expect(matches(e, device({ tags: ["role=desktop"] }))).toBe(false);
    expect(matches(e, device({ os: "windows" }))).toBe(false);
  });
  test('os = "windows" and os_version ~ "Server 2019"', () => {
    const e = 'os = "windows" and os_version ~ "Server 2019"';
    expect(matches(e, device({ os: "windows", osVersion: "Windows Server 2019 Datacenter" }))).toBe(true);
    expect(matches(e, device({ os: "windows", osVersion: "Windows Server 2022" }))).toBe(false);
  });
  test('not (status = "offline") or hostname ~ "^db-"', () => {
    const e = 'not (status = "offline") or hostname ~ "^db-"';
    expect(matches(e, device({ status: "offline" }))).toBe(true);
    expect(matches(e, device({ status: "offline", hostname: "web-db-1" }))).toBe(false);
    expect(matches(e, device({ status: "online", hostname: "web-1" }))).toBe(true);
  });
});

describe("fields and operators", () => {
  test("text fields compare without case", () => {
    expect(matches('OS = "LINUX"')).toBe(true);
    expect(matches('os_name ~ "ubuntu"')).toBe(true);
    expect(matches('arch != "arm64"')).toBe(true);
    expect(matches('cpu_model ~ "epyc"')).toBe(true);
    expect(matches('agent_version = "0.4.0"')).toBe(true);
    expect(matches('site = "hq" and client = "ACME"')).toBe(true);
  });
  test("~ anchors: ^ start, $ end, both exact; other characters are literal", () => {
    expect(matches('hostname ~ "^db"')).toBe(true);
    expect(matches('hostname ~ "01$"')).toBe(true);
    expect(matches('hostname ~ "^db-01$"')).toBe(true);
    expect(matches('hostname ~ "^db-0$"')).toBe(false);
    expect(matches('hostname ~ "b-0"')).toBe(true);
    expect(matches('hostname ~ "db.01"')).toBe(false);
    expect(matches('hostname ~ "(a+)+$"')).toBe(false);
  });
  test("numeric fields and every comparison", () => {
    expect(matches("memory_gb >= 16 and memory_gb <= 16")).toBe(true);
    expect(matches("cpu_cores = 8 and cpu_cores != 4")).toBe(true);
    expect(matches("memory < 50 and disk > 69.5 and load1 > 1")).toBe(true);
    expect(matches("cpu <= 84")).toBe(false);
    expect(matches("load1 > -1")).toBe(true);
  });
  test("telemetry comparisons never match a device without telemetry", () => {
    const none = device({ telemetry: null });
    expect(matches("cpu > 0", none)).toBe(false);
    expect(matches("cpu != 5", none)).toBe(false);
    expect(matches("not cpu > 0", none)).toBe(true);
  });
  test("tags: value, missing tag is empty, has tests presence", () => {
    expect(matches('tag.role = "server"')).toBe(true);
    expect(matches('tag.owner = ""')).toBe(true);
    expect(matches('tag.role != ""')).toBe(true);
    expect(matches("has tag.role")).toBe(true);
    expect(matches("has tag.pinned")).toBe(true);
    expect(matches('tag.pinned = ""')).toBe(true);
    expect(matches("has tag.owner")).toBe(false);
    expect(matches('tag.env ~ "pro"')).toBe(true);
    expect(matches('tag.role = "serv"', device({ tags: ["roles=serv"] }))).toBe(false);
  });
  test("precedence: not > and > or; parentheses group", () => {
    expect(matches('os = "windows" and cpu > 0 or hostname = "db-01"')).toBe(true);
    expect(matches('os = "windows" and (cpu > 0 or hostname = "db-01")')).toBe(false);
    expect(matches('not os = "windows" and not os = "darwin"')).toBe(true);
    expect(matches("NOT (cpu > 90 OR cpu < 10)")).toBe(true);
  });
  test('strings take \\" and \\\\ escapes', () => {
    expect(matches('hostname = "a\\"b"', device({ hostname: 'a"b' }))).toBe(true);
    expect(matches('hostname = "a\\\\b"', device({ hostname: "a\\b" }))).toBe(true);
  });
});

describe("rejections name the position", () => {
  const cases: [string, number, RegExp][] = [
    ["", 0, /empty/],
    ['os = "linux" and', 16, /expected a field/],
    ['os = "linux" and and cpu > 1', 17, /expected a field, "not", "has" or "\(", found "and"/],
    ['os = "linux" cpu > 1', 13, /expected "and", "or"/],
    ['osx = "linux"', 0, /unknown field "osx"/],
    ['os = "linux" and (cpu > 1', 25, /expected "\)"/],
    ['os = "linux', 5, /unterminated/],
    ["os = linux", 5, /quoted string/],
    ['cpu > "80"', 6, /expected a number/],
    ['cpu ~ "8"', 4, /matches text/],
    ['os > "a"', 3, /compares numbers/],
    ["os", 2, /expected an operator/],
    ['os == "x"', 4, /expected a field|quoted string/],
    ["cpu > 80 & disk > 1", 9, /unexpected character "&"/],
    ['has os = "x"', 4, /tag field/],
    ['hostname = "\\n"', 12, /escapes/],
    ['tag.bad/key = "x"', 7, /unexpected character/],
  ];
  for (const [expr, position, message] of cases) {
    test(JSON.stringify(expr), () => {
      const e = rejection(expr);
      expect(e.position).toBe(position);
      expect(e.message).toMatch(message);
    });
  }
  test("an unknown field carries its name", () => {
    expect(rejection('os = "x" or colour = "red"').field).toBe("colour");
  });
  test("bounded: length, string length, depth", () => {
    expect(rejection(`hostname = "${"a".repeat(MAX_EXPRESSION_LENGTH)}"`).message).toMatch(/at most 2000/);
    expect(rejection(`hostname ~ "${"a".repeat(201)}"`).message).toMatch(/at most 200/);
    expect(rejection(`${"(".repeat(40)}cpu > 1${")".repeat(40)}`).message).toMatch(/nested deeper/);
    expect(rejection(`${"not ".repeat(40)}cpu > 1`).message).toMatch(/nested deeper/);
    expect(matches(`${"(".repeat(30)}cpu > 1${")".repeat(30)}`)).toBe(true);
  });
});
