/** Display helpers: units are bytes, bytes per second, percent 0–100 and milliseconds. */

const toDate = (d: Date | string | null | undefined): Date | null => (d == null ? null : d instanceof Date ? d : new Date(d));

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "never" for null. */
export function relativeTime(d: Date | string | null | undefined, now: number): string {
  const date = toDate(d);
  if (!date || Number.isNaN(date.getTime())) return "never";
  const s = Math.round((now - date.getTime()) / 1000);
  if (s < 0) return s > -60 ? "just now" : `in ${duration(-s)}`;
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 86_400 * 60) return `${Math.floor(s / 86_400)} d ago`;
  return dateTime(date);
}

/** Seconds as "3 d 4 h", "5 h 12 min", "4 min 3 s". */
export function duration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function dateTime(d: Date | string | null | undefined): string {
  const date = toDate(d);
  return date && !Number.isNaN(date.getTime()) ? dtf.format(date) : "—";
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes in binary units: "15.6 GiB". */
export function bytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]}`;
}

/** Bytes per second: "1.2 MiB/s". */
export const rate = (bps: number | null | undefined): string => (bps == null ? "—" : `${bytes(bps)}/s`);

/** Percent with one decimal below 10: "7.5 %", "63 %". */
export function percent(p: number | null | undefined): string {
  if (p == null || !Number.isFinite(p)) return "—";
  return `${p < 10 ? p.toFixed(1) : Math.round(p)} %`;
}

export const OS_LABEL: Record<string, string> = { linux: "Linux", windows: "Windows", darwin: "macOS" };
