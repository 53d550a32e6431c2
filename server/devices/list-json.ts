/**
 * JSON written straight from PostgreSQL's text-format column bytes (postgres.js `.raw()` rows), for
 * the device list's hot path: no JavaScript string per column, no number parsed and printed again,
 * and the body leaves as the bytes it was written in. Every value still goes through a JSON rule:
 * text is escaped, numbers that JSON cannot hold (`NaN`, `Infinity`) become null, times are
 * rewritten to `Date.toISOString()` form.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = "0123456789abcdef";
/** The control characters JSON.stringify writes as \b, \t, \n, \f, \r. */
const SHORT_ESCAPE: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 };

export class JsonBytes {
  private buf = Buffer.allocUnsafe(32 * 1024);
  private pos = 0;

  private room(n: number) {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A literal piece of JSON (ASCII, written by this program). */
  raw(piece: Uint8Array): this {
    this.room(piece.length);
    // a loop, not `set`: nearly every piece is a few bytes, where the native call costs more than the copy
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < piece.length; i++) b[p++] = piece[i] as number;
    this.pos = p;
    return this;
  }

  /** Literal JSON given as a string (ASCII only: keys, punctuation, numbers this program printed). */
  ascii(s: string): this {
    this.room(s.length);
    this.pos += this.buf.write(s, this.pos, "latin1");
    return this;
  }

  /**
   * UTF-8 text as a JSON string (null stays null). PostgreSQL's text is valid UTF-8 (the database
   * is UTF8), so only the quote, the backslash and control characters need escaping.
   */
  str(v: Uint8Array | null): this {
    if (v === null) return this.ascii("null");
    this.room(v.length * 6 + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = QUOTE;
    for (let i = 0; i < v.length; i++) {
      const c = v[i] as number;
      if (c === QUOTE || c === BACKSLASH) {
        b[p++] = BACKSLASH;
        b[p++] = c;
      } else if (c < 0x20) {
        b[p++] = BACKSLASH;
        const short = SHORT_ESCAPE[c];
        if (short !== undefined) {
          b[p++] = short;
          continue;
        }
        b[p++] = 0x75; // u00XX
        b[p++] = 0x30;
        b[p++] = 0x30;
        b[p++] = HEX.charCodeAt(c >> 4);
        b[p++] = HEX.charCodeAt(c & 15);
      } else b[p++] = c;
    }
    b[p++] = QUOTE;
    this.pos = p;
    return this;
  }

  /**
   * A `real`, `double precision` or integer column's text as a JSON number. PostgreSQL prints
   * finite values as JSON does (`12.5`, `-0`, `1e+21`); `NaN`, `Infinity` and `-Infinity` become null.
   */
  num(v: Uint8Array | null): this {
    if (v === null || v.length === 0) return this.ascii("null");
    const c = v[v.length - 1] as number;
    // every finite number ends in a digit; NaN, Infinity and -Infinity end in a letter
    if (c < 0x30 || c > 0x39) return this.ascii("null");
    return this.raw(v);
  }

  /**
   * `timestamp` text in UTC under DateStyle ISO (`2026-12-01 23:45:23.611234`, the fraction
   * optional) as `Date.toISOString()` writes it (`2026-12-01T23:45:23.611Z`), milliseconds truncated.
   */
  time(v: Uint8Array | null): this {
    if (v === null) return this.ascii("null");
    if (v.length < 19 || v[10] !== 0x20) return this.str(v); // not the form above (e.g. 'infinity'): as text
    this.room(26);
    const b = this.buf;
    let p = this.pos;
    b[p++] = QUOTE;
    for (let i = 0; i < 10; i++) b[p++] = v[i] as number;
    b[p++] = 0x54; // T
    for (let i = 11; i < 19; i++) b[p++] = v[i] as number;
    b[p++] = 0x2e; // .
    for (let i = 20; i < 23; i++) b[p++] = i < v.length ? (v[i] as number) : 0x30;
    b[p++] = 0x5a; // Z
    b[p++] = QUOTE;
    this.pos = p;
    return this;
  }

  /** What was written (a view of this writer's own buffer: write nothing more once taken). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** An ASCII literal piece, encoded once. */
export const piece = (s: string) => Buffer.from(s, "latin1");
