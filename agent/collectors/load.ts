/** Parses /proc/loadavg: the 1, 5 and 15 minute load averages (runnable + uninterruptible tasks). */
export function parseLoadavg(text: string): [number, number, number] {
  const [a, b, c] = text.split(" ", 3).map(Number);
  return [a || 0, b || 0, c || 0];
}
