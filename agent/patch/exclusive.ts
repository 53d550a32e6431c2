/**
 * Package managers hold locks (apt's lists and dpkg's database): the agent runs one patch operation
 * at a time (a scan, an install), the next one waiting for the previous to end.
 */
let tail: Promise<unknown> = Promise.resolve();

export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = tail.then(fn, fn);
  tail = run.catch(() => undefined);
  return run;
}
