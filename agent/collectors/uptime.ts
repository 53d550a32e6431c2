/** Parses /proc/uptime: seconds since boot (the first field; the second is idle time summed over CPUs). */
export function parseUptime(text: string): number {
  return Number.parseFloat(text) || 0;
}
