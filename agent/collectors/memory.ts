/** Memory and swap in bytes. */
export interface MemoryReading {
  totalBytes: number;
  usedBytes: number;
  swapTotalBytes: number;
  swapUsedBytes: number;
}

/**
 * Parses /proc/meminfo (values in kB). Used memory is MemTotal − MemAvailable, the memory the
 * kernel cannot hand to a new program without swapping; kernels before 3.14 lack MemAvailable, so
 * it falls back to MemFree + Buffers + Cached there.
 */
export function parseMeminfo(text: string): MemoryReading {
  const kb = new Map<string, number>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) kb.set(line.slice(0, colon), Number.parseInt(line.slice(colon + 1), 10));
  }
  const get = (key: string) => kb.get(key) ?? 0;
  const total = get("MemTotal");
  const available = kb.get("MemAvailable") ?? get("MemFree") + get("Buffers") + get("Cached");
  const swapTotal = get("SwapTotal");
  return {
    totalBytes: total * 1024,
    usedBytes: Math.max(0, total - available) * 1024,
    swapTotalBytes: swapTotal * 1024,
    swapUsedBytes: Math.max(0, swapTotal - get("SwapFree")) * 1024,
  };
}
