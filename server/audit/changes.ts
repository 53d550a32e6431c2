/** Longest before/after value kept in an audit entry, characters; longer ones are cut with "…". */
const MAX_VALUE = 160;

/** One changed field of an audit entry: a short form of the value before and after. */
export interface FieldChange {
  before: unknown;
  after: unknown;
}

/** A value as it may appear in the audit log: short strings, numbers, booleans and null as they are; anything longer cut. */
function short(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === "number" || typeof value === "boolean") return value;
  const text = typeof value === "string" ? value : value instanceof Date ? value.toISOString() : JSON.stringify(value);
  if (typeof value !== "string" && text.length <= MAX_VALUE) return value;
  return text.length <= MAX_VALUE ? text : `${text.slice(0, MAX_VALUE - 1)}…`;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The fields among `fields` that differ between two versions of a record, each with a short
 * before/after (long values truncated to 160 characters). Callers name only fields that hold no
 * secret (never a password, key or channel config): what is listed reaches the audit log.
 */
export function fieldChanges<T extends object>(before: T, after: T, fields: readonly (keyof T & string)[]): Record<string, FieldChange> {
  const out: Record<string, FieldChange> = {};
  for (const f of fields) {
    if (!same(before[f], after[f])) out[f] = { before: short(before[f]), after: short(after[f]) };
  }
  return out;
}
