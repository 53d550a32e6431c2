import { PDFDocument, type PDFFont, type PDFPage, rgb, StandardFonts } from "pdf-lib";
import { csvLine } from "../audit/csv.ts";
import type { ComplianceRow, ComplianceSummary } from "./compliance.store.ts";

const HEADER = [
  "hostname",
  "client",
  "site",
  "status",
  "missing_critical",
  "missing_security",
  "missing_since",
  "overdue",
  "failed",
  "pending",
  "scanned_at",
];

/** The compliance report as CSV (RFC 4180, formula-safe cells). */
export function complianceCsv(rows: readonly ComplianceRow[]): string {
  return [
    csvLine(HEADER),
    ...rows.map((r) =>
      csvLine([
        r.hostname,
        r.clientName,
        r.siteName,
        r.status,
        r.missingCritical,
        r.missingSecurity,
        r.missingSince,
        r.overdue,
        r.failed,
        r.pending,
        r.scannedAt,
      ]),
    ),
  ].join("");
}

/** Standard PDF fonts encode WinAnsi only: anything else becomes `?` instead of failing the report. */
const winAnsi = (s: string) => s.replace(/[^\x20-\x7e\u00a0-\u00ff]/g, "?");

/**
 * The compliance report as a PDF (pdf-lib, A4, the standard Helvetica fonts): the organization's
 * totals, then one line per device, worst first, as many pages as it takes.
 */
export async function compliancePdf(o: {
  organization: string;
  generatedAt: Date;
  overdueDays: number;
  summary: ComplianceSummary;
  rows: readonly ComplianceRow[];
}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Patch compliance — ${winAnsi(o.organization)}`);
  doc.setProducer("SENTpulse");
  doc.setCreationDate(o.generatedAt);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const [W, H] = [595.28, 841.89];
  const margin = 40;
  let page: PDFPage = doc.addPage([W, H]);
  let y = H - margin;
  const text = (p: PDFPage, s: string, x: number, size: number, f: PDFFont = font, color = rgb(0.1, 0.1, 0.12)) => {
    let t = winAnsi(s);
    // long names are cut to the space left on the line
    while (t.length > 1 && f.widthOfTextAtSize(t, size) > W - margin - x) t = t.slice(0, -1);
    p.drawText(t, { x, y, size, font: f, color });
  };
  text(page, "Patch compliance report", margin, 18, bold);
  y -= 22;
  text(page, `${o.organization} — generated ${o.generatedAt.toISOString().replace("T", " ").slice(0, 16)} UTC`, margin, 10);
  y -= 24;
  const s = o.summary;
  const pct = s.devices > 0 ? Math.round((s.compliant / s.devices) * 100) : 0;
  for (const line of [
    `Devices: ${s.devices}    Fully patched: ${s.compliant} (${pct}%)    Missing updates: ${s.missing}    Failed installs: ${s.failed}    Never scanned: ${s.unknown}`,
    `Missing critical: ${s.missingCritical} devices    Missing security: ${s.missingSecurity} devices    Overdue (> ${o.overdueDays} days): ${s.overdue} devices`,
  ]) {
    text(page, line, margin, 9.5);
    y -= 15;
  }
  y -= 10;
  const cols: [string, number][] = [
    ["Device", margin],
    ["Client / site", margin + 150],
    ["Status", margin + 300],
    ["Critical", margin + 360],
    ["Security", margin + 410],
    ["Missing since", margin + 455],
    ["Failed", margin + 515],
  ];
  const header = () => {
    for (const [name, x] of cols) text(page, name, x, 9, bold);
    y -= 6;
    page.drawLine({ start: { x: margin, y }, end: { x: W - margin, y }, thickness: 0.5, color: rgb(0.6, 0.6, 0.65) });
    y -= 12;
  };
  header();
  const red = rgb(0.7, 0.1, 0.1);
  for (const r of o.rows) {
    if (y < margin + 20) {
      page = doc.addPage([W, H]);
      y = H - margin;
      header();
    }
    const color = r.status === "compliant" ? rgb(0.1, 0.45, 0.2) : r.status === "unknown" ? rgb(0.4, 0.4, 0.45) : red;
    text(page, r.hostname, cols[0]?.[1] ?? margin, 8.5);
    text(page, `${r.clientName} / ${r.siteName}`, cols[1]?.[1] ?? margin, 8.5);
    text(page, r.status, cols[2]?.[1] ?? margin, 8.5, bold, color);
    text(page, String(r.missingCritical), cols[3]?.[1] ?? margin, 8.5);
    text(page, String(r.missingSecurity), cols[4]?.[1] ?? margin, 8.5);
    text(
      page,
      r.missingSince ? r.missingSince.toISOString().slice(0, 10) : "—",
      cols[5]?.[1] ?? margin,
      8.5,
      r.overdue ? bold : font,
      r.overdue ? red : undefined,
    );
    text(page, String(r.failed), cols[6]?.[1] ?? margin, 8.5);
    y -= 13;
  }
  return doc.save();
}
