type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
};
let threshold = ORDER.info;

/** Sets the lowest level written. */
export function setLogLevel(level: Level): void {
  threshold = ORDER[level];
}

/**
 * Structured one-line JSON logs on stderr. Callers pass context fields, never secrets,
 * tokens or query strings.
 */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < threshold) return;
  const line = JSON.stringify({
    t: new Date().toISOString(),
    level,
    msg,
    ...fields,
  });
  process.stderr.write(`${line}\n`);
}
