/**
 * The smart-group expression language: a boolean expression over a device's facts, tags, place,
 * status and latest telemetry, parsed by hand (recursive descent) and compiled to a predicate.
 *
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := unary ("and" unary)*
 *   unary   := "not" unary | primary
 *   primary := "(" expr ")" | "has" field | field op value
 *   op      := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~"
 *   value   := "double-quoted string" (\" and \\ escapes) | number
 *
 * Keywords are case-insensitive. Text comparisons (`=`, `!=`) ignore case. `~` is a bounded match,
 * not a regular expression: case-insensitive "contains", where a leading `^` anchors at the start
 * and a trailing `$` at the end (`hostname ~ "^db-"`); every other character is literal, so no
 * pattern can backtrack. Numeric fields compare numbers; a device without telemetry yet matches no
 * comparison on `cpu`, `memory`, `disk` or `load1` (not even `!=`).
 *
 * Tags: `tag.role` is the value of the tag `role=…` ("" when the device has no such tag, or a bare
 * `role` tag); `has tag.role` is true when the device carries `role` or `role=<anything>`.
 */

/** What an expression is evaluated against: one device as the group engine keeps it. */
export interface DeviceSnapshot {
  os: string;
  osVersion: string;
  osName: string;
  arch: string;
  hostname: string;
  cpuModel: string;
  memoryTotalBytes: number;
  cpuCores: number;
  agentVersion: string;
  status: string;
  siteName: string;
  clientName: string;
  /** `key` or `key=value`, as set at enrollment or by hand. */
  tags: string[];
  /** Latest telemetry, percent (cpu, memory, disk) and the 1-minute load; null before the first sample. */
  telemetry: { cpu: number; memory: number; disk: number; load1: number } | null;
  /** Critical and security updates missing (pending, installing or failed; server/patches); absent before the first scan. */
  patch?: { criticalMissing: number; securityMissing: number } | null;
}

/** Longest expression accepted, characters. */
export const MAX_EXPRESSION_LENGTH = 2000;
/** Deepest nesting of `not` and parentheses accepted. */
const MAX_DEPTH = 32;
/** Longest quoted text (a `~` pattern included), characters. */
const MAX_STRING_LENGTH = 200;

/** A rejected expression: the 0-based character position and what is wrong there. */
export class ExpressionError extends Error {
  constructor(
    readonly position: number,
    message: string,
    /** The unknown field's name, when that is the problem. */
    readonly field?: string,
  ) {
    super(`at ${position}: ${message}`);
  }
}

type Text = (d: DeviceSnapshot) => string;
type Num = (d: DeviceSnapshot) => number | null;
const telemetry =
  (k: "cpu" | "memory" | "disk" | "load1"): Num =>
  (d) =>
    d.telemetry ? d.telemetry[k] : null;

const TEXT_FIELDS: Record<string, Text> = {
  os: (d) => d.os,
  os_version: (d) => d.osVersion,
  os_name: (d) => d.osName,
  arch: (d) => d.arch,
  hostname: (d) => d.hostname,
  cpu_model: (d) => d.cpuModel,
  agent_version: (d) => d.agentVersion,
  status: (d) => d.status,
  site: (d) => d.siteName,
  client: (d) => d.clientName,
};
const NUMBER_FIELDS: Record<string, Num> = {
  memory_gb: (d) => d.memoryTotalBytes / 1024 ** 3,
  cpu_cores: (d) => d.cpuCores,
  cpu: telemetry("cpu"),
  memory: telemetry("memory"),
  disk: telemetry("disk"),
  load1: telemetry("load1"),
  "patch.critical_missing": (d) => d.patch?.criticalMissing ?? null,
  "patch.security_missing": (d) => d.patch?.securityMissing ?? null,
};
/** Every field name, for error messages and the dashboard's help. */
const FIELDS = [...Object.keys(TEXT_FIELDS), ...Object.keys(NUMBER_FIELDS), "tag.<key>"];

/** Words that cannot name a field where one is expected. */
const KEYWORDS = new Set(["and", "or"]);
const TAG_KEY = /^[A-Za-z0-9_.:-]{1,64}$/;
function tagValue(tags: string[], key: string): string | undefined {
  for (const t of tags) {
    if (t === key) return "";
    if (t.length > key.length && t.startsWith(key) && t[key.length] === "=") return t.slice(key.length + 1);
  }
  return undefined;
}

type Token =
  | { kind: "ident"; text: string; pos: number }
  | { kind: "string"; text: string; pos: number }
  | { kind: "number"; value: number; pos: number }
  | { kind: "op"; text: string; pos: number }
  | { kind: "paren"; text: "(" | ")"; pos: number }
  | { kind: "end"; pos: number };

const OPS = ["!=", "<=", ">=", "=", "<", ">", "~"];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "(" || c === ")") {
      out.push({ kind: "paren", text: c, pos: i++ });
    } else if (c === '"') {
      let text = "";
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === "\\") {
          const next = src[i + 1];
          if (next !== '"' && next !== "\\") throw new ExpressionError(i, 'only \\" and \\\\ are escapes in a string');
          text += next;
          i += 2;
        } else text += src[i++];
      }
      if (i >= src.length) throw new ExpressionError(start, "unterminated string");
      if (text.length > MAX_STRING_LENGTH) throw new ExpressionError(start, `a string may hold at most ${MAX_STRING_LENGTH} characters`);
      i++;
      out.push({ kind: "string", text, pos: start });
    } else if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(src.slice(i)) as RegExpExecArray;
      i += m[0].length;
      out.push({ kind: "number", value: Number(m[0]), pos: start });
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_.:-]+)?/.exec(src.slice(i)) as RegExpExecArray;
      i += m[0].length;
      out.push({ kind: "ident", text: m[0], pos: start });
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw new ExpressionError(i, `unexpected character ${JSON.stringify(c)}`);
      i += op.length;
      out.push({ kind: "op", text: op, pos: start });
    }
  }
  out.push({ kind: "end", pos: src.length });
  return out;
}

/** A compiled expression: true when the device belongs to the group. */
export type Predicate = (d: DeviceSnapshot) => boolean;

const describe = (t: Token) =>
  t.kind === "end" ? "the end" : t.kind === "string" ? `"${t.text}"` : t.kind === "number" ? String(t.value) : `"${t.text}"`;

/** A `~` pattern as a bounded matcher: contains, `^` starts with, `$` ends with; case-insensitive. */
function matcher(pattern: string): (s: string) => boolean {
  let p = pattern.toLowerCase();
  const start = p.startsWith("^");
  if (start) p = p.slice(1);
  const end = p.endsWith("$") && p.length > 0;
  if (end) p = p.slice(0, -1);
  if (start && end) return (s) => s.toLowerCase() === p;
  if (start) return (s) => s.toLowerCase().startsWith(p);
  if (end) return (s) => s.toLowerCase().endsWith(p);
  return (s) => s.toLowerCase().includes(p);
}

function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    default:
      return a >= b;
  }
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }
  private next(): Token {
    return this.tokens[this.i++] as Token;
  }
  private keyword(word: string): boolean {
    const t = this.peek();
    if (t.kind === "ident" && t.text.toLowerCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }

  parse(): Predicate {
    if (this.peek().kind === "end") throw new ExpressionError(0, "the expression is empty");
    const p = this.or();
    const t = this.peek();
    if (t.kind !== "end") throw new ExpressionError(t.pos, `expected "and", "or" or the end, found ${describe(t)}`);
    return p;
  }

  private or(): Predicate {
    const parts = [this.and()];
    while (this.keyword("or")) parts.push(this.and());
    return parts.length === 1 ? (parts[0] as Predicate) : (d) => parts.some((p) => p(d));
  }

  private and(): Predicate {
    const parts = [this.unary()];
    while (this.keyword("and")) parts.push(this.unary());
    return parts.length === 1 ? (parts[0] as Predicate) : (d) => parts.every((p) => p(d));
  }

  private nested<T>(pos: number, f: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(pos, `nested deeper than ${MAX_DEPTH} levels`);
    const out = f();
    this.depth--;
    return out;
  }

  private unary(): Predicate {
    const t = this.peek();
    if (this.keyword("not")) {
      const inner = this.nested(t.pos, () => this.unary());
      return (d) => !inner(d);
    }
    return this.primary();
  }

  private primary(): Predicate {
    const t = this.next();
    if (t.kind === "paren" && t.text === "(") {
      const inner = this.nested(t.pos, () => this.or());
      const close = this.next();
      if (close.kind !== "paren" || close.text !== ")") throw new ExpressionError(close.pos, `expected ")", found ${describe(close)}`);
      return inner;
    }
    if (t.kind === "ident" && t.text.toLowerCase() === "has") {
      const f = this.next();
      if (f.kind !== "ident" || !f.text.startsWith("tag."))
        throw new ExpressionError(f.pos, `"has" takes a tag field (has tag.<key>), found ${describe(f)}`);
      const key = this.tagKey(f);
      return (d) => tagValue(d.tags, key) !== undefined;
    }
    if (t.kind !== "ident" || KEYWORDS.has(t.text.toLowerCase()))
      throw new ExpressionError(t.pos, `expected a field, "not", "has" or "(", found ${describe(t)}`);
    return this.comparison(t);
  }

  private tagKey(f: Token & { kind: "ident" }): string {
    const key = f.text.slice(4);
    if (!TAG_KEY.test(key)) throw new ExpressionError(f.pos, `"${key}" is not a tag key`);
    return key;
  }

  private comparison(f: Token & { kind: "ident" }): Predicate {
    const name = f.text.toLowerCase();
    const text: Text | undefined = f.text.startsWith("tag.")
      ? (
          (key) => (d: DeviceSnapshot) =>
            tagValue(d.tags, key) ?? ""
        )(this.tagKey(f))
      : TEXT_FIELDS[name];
    const num = NUMBER_FIELDS[name];
    if (!text && !num) throw new ExpressionError(f.pos, `unknown field "${f.text}" (fields: ${FIELDS.join(", ")})`, f.text);
    const op = this.next();
    if (op.kind !== "op")
      throw new ExpressionError(op.pos, `expected an operator (= != < <= > >= ~) after ${f.text}, found ${describe(op)}`);
    const value = this.next();
    if (num) {
      if (op.text === "~") throw new ExpressionError(op.pos, `~ matches text; ${f.text} is a number`);
      if (value.kind !== "number")
        throw new ExpressionError(value.pos, `${f.text} is a number; expected a number, found ${describe(value)}`);
      const v = value.value;
      return (d) => {
        const x = num(d);
        return x !== null && compare(op.text, x, v);
      };
    }
    const get = text as Text;
    if (value.kind !== "string")
      throw new ExpressionError(value.pos, `${f.text} is text; expected a "quoted string", found ${describe(value)}`);
    if (op.text === "~") {
      const match = matcher(value.text);
      return (d) => match(get(d));
    }
    if (op.text !== "=" && op.text !== "!=")
      throw new ExpressionError(op.pos, `${op.text} compares numbers; ${f.text} is text (use =, != or ~)`);
    const want = value.text.toLowerCase();
    const equal = op.text === "=";
    return (d) => (get(d).toLowerCase() === want) === equal;
  }
}

/** Parses and compiles an expression; throws `ExpressionError` with the position of the first problem. */
export function compileExpression(src: string): Predicate {
  if (src.length > MAX_EXPRESSION_LENGTH)
    throw new ExpressionError(MAX_EXPRESSION_LENGTH, `an expression may hold at most ${MAX_EXPRESSION_LENGTH} characters`);
  return new Parser(tokenize(src)).parse();
}
