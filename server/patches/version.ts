/**
 * Version comparison as dpkg does it (Debian Policy §5.6.12): `[epoch:]upstream[-revision]`, epochs
 * compared as numbers, the rest in alternating runs of non-digits (letters before non-letters, `~`
 * before everything, even the end) and digits (as numbers). It also orders rpm versions and the
 * dotted versions of Windows and macOS programs the way people expect ("6.0.1" > "5.17.11", "10" > "9").
 */
export function compareVersions(a: string, b: string): number {
  const [ea, ra] = splitEpoch(a);
  const [eb, rb] = splitEpoch(b);
  if (ea !== eb) return ea < eb ? -1 : 1;
  const [ua, va] = splitRevision(ra);
  const [ub, vb] = splitRevision(rb);
  return compareFragment(ua, ub) || compareFragment(va, vb);
}

function splitEpoch(v: string): [number, string] {
  const m = /^(\d+):(.*)$/.exec(v.trim());
  return m ? [Number(m[1]), m[2] ?? ""] : [0, v.trim()];
}

function splitRevision(v: string): [string, string] {
  const i = v.lastIndexOf("-");
  return i < 0 ? [v, ""] : [v.slice(0, i), v.slice(i + 1)];
}

/** dpkg's character order: `~` first, then the end of the string, then letters, then everything else. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === "~") return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  // bounded by the lengths: each pass consumes at least one character of a or b
  while (i < a.length || j < b.length) {
    while ((i < a.length && !/\d/.test(a[i] ?? "")) || (j < b.length && !/\d/.test(b[j] ?? ""))) {
      const ca = i < a.length && !/\d/.test(a[i] ?? "") ? a[i] : undefined;
      const cb = j < b.length && !/\d/.test(b[j] ?? "") ? b[j] : undefined;
      const d = order(ca) - order(cb);
      if (d !== 0) return d < 0 ? -1 : 1;
      i++;
      j++;
    }
    let na = "";
    let nb = "";
    while (i < a.length && /\d/.test(a[i] ?? "")) na += a[i++];
    while (j < b.length && /\d/.test(b[j] ?? "")) nb += b[j++];
    na = na.replace(/^0+/, "");
    nb = nb.replace(/^0+/, "");
    if (na.length !== nb.length) return na.length < nb.length ? -1 : 1;
    if (na !== nb) return na < nb ? -1 : 1;
  }
  return 0;
}
