import { type } from "arktype";
import { Timestamp } from "../lib/schemas.ts";
import { Classification, MAX_INSTALL_UPDATES, RebootPolicy, UpdateSource } from "../protocol/patch.ts";

/** The shapes of patch management's API: queries, bodies and answers (server/patches/routes.ts). */

/** Rows a list answers at most; the fleet search and the compliance report read at most these. */
export const MAX_LIST = 1000;
export const MAX_FLEET_ROWS = 20_000;
export const MAX_REPORT_ROWS = 20_000;

export const Limit = type("string.integer.parse").pipe(type(`1 <= number <= ${MAX_LIST}`));
export const DeviceParam = type({ id: "string.uuid" });
export const Software = type({
  source: "string",
  name: "string",
  arch: "string",
  version: "string",
  publisher: "string | null",
  installedAt: Timestamp.or("null"),
});
/** A name to search for: letters, digits, spaces and `+ . _ : @ / ( ) -`, optionally ending in `*` for a prefix. */
export const SoftwareName = type(/^[\p{L}\p{N}][\p{L}\p{N} +._:@/()-]{0,127}\*?$/u).configure({
  description: "a program name (exact, case-insensitive; end it with * for a prefix)",
});
/** A version condition: an operator (< <= = >= >) and a version. */
export const VersionCondition = type(/^(<=|>=|<|>|=)\s*[A-Za-z0-9.+~:_-]{1,128}$/).configure({
  description: "a version condition such as <6, <=5.17.11, =1.0, >=2 (dpkg ordering)",
});
export const FleetItem = type({
  deviceId: "string",
  hostname: "string",
  source: "string",
  name: "string",
  version: "string",
  publisher: "string | null",
});

export const Update = type({
  id: "string",
  deviceId: "string",
  hostname: "string",
  source: "string",
  name: "string",
  title: "string",
  currentVersion: "string | null",
  version: "string",
  classification: "string",
  severity: "string | null",
  ids: "string[]",
  origin: "string | null",
  sizeBytes: "number | null",
  rebootRequired: "boolean | null",
  state: "'pending' | 'installing' | 'installed' | 'failed' | 'resolved'",
  approval: "'approved' | 'denied' | 'awaiting' | 'excluded' | 'ring_wait'",
  attempts: "number",
  error: "string | null",
  installCommandId: "string | null",
  firstSeenAt: Timestamp,
  lastSeenAt: Timestamp,
  finishedAt: Timestamp.or("null"),
});
export type UpdateOut = typeof Update.infer;
const UpdateState = type("'pending' | 'installing' | 'installed' | 'failed' | 'resolved'");
const Approval = type("'approved' | 'denied' | 'awaiting' | 'excluded' | 'ring_wait'");
/** A search of updates: words of the package name or title, or a CVE / KB / advisory id. */
const UpdateSearch = type(/^[\p{L}\p{N}][\p{L}\p{N} +._:@/()-]{0,127}$/u).configure({
  description: "words of the package name or title, or a CVE, KB or advisory id, any case (CVE-2024-3094, KB5034441, 5034441)",
});
export const UpdatesQuery = type({
  "q?": UpdateSearch,
  "classification?": Classification,
  "state?": UpdateState,
  "approval?": Approval,
  "deviceId?": "string.uuid",
  "limit?": Limit,
});
export const DeviceUpdatesQuery = type({
  "q?": UpdateSearch,
  "classification?": Classification,
  "state?": UpdateState,
  "approval?": Approval,
  "limit?": Limit,
});
const UpdateIds = `0 < string.uuid[] <= ${MAX_INSTALL_UPDATES}`;
export const ApprovalBody = type({
  updateIds: UpdateIds,
  decision: "'approve' | 'deny'",
  "scope?": type("'organization' | 'devices'").configure({
    description:
      "organization: that version on every device (the default for users of the whole organization); devices: each update's own device only (the only one for users limited to some clients)",
  }),
});
export const InstallBody = type({
  updateIds: UpdateIds,
  "reboot?": RebootPolicy.configure({ description: "never (default), if_needed, or force" }),
  "rebootDelaySeconds?": "0 <= number.integer <= 3600",
});
export const ScanSummary = type({
  scannedAt: Timestamp,
  durationMs: "number",
  peakRssBytes: "number | null",
  inventory: { mode: "string", stored: "boolean", items: "number | null" },
  updates: "number",
  security: "number",
  sources: "string[]",
  problems: type({ source: "string", code: "string", message: "string" }).array(),
});

/** An exclusion: a package name or id with `*` wildcards (no spaces or shell metacharacters). */
const Exclusion = type(/^[A-Za-z0-9*][A-Za-z0-9+._:@/*-]{0,127}$/).configure({
  description: "a package name or id, * matches anything (letters, digits and + . _ : @ / - *)",
});
const Window = type({ cron: "0 < string <= 120", durationMinutes: "5 <= number.integer <= 1440", timezone: "0 < string <= 64" });
export const PatchPolicyBody = type({
  policyId: "string.uuid",
  "autoApprove?": Classification.array().atMostLength(4),
  "autoApproveSources?": UpdateSource.array().atMostLength(8),
  "deferralDays?": "0 <= number.integer <= 365",
  "pilotGroupId?": "string.uuid | null",
  "ringDelayDays?": "0 <= number.integer <= 90",
  "window?": Window.or("null"),
  "reboot?": RebootPolicy,
  "rebootDelaySeconds?": "0 <= number.integer <= 3600",
  "exclusions?": Exclusion.array().atMostLength(200),
  "scanIntervalHours?": "1 <= number.integer <= 168",
});
export const PatchPolicy = type({
  id: "string",
  organizationId: "string",
  policyId: "string",
  policyName: "string",
  autoApprove: "string[]",
  autoApproveSources: "string[]",
  deferralDays: "number",
  pilotGroupId: "string | null",
  ringDelayDays: "number",
  window: Window.or("null"),
  reboot: RebootPolicy,
  rebootDelaySeconds: "number",
  exclusions: "string[]",
  scanIntervalHours: "number",
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export const OpenWindowBody = type({ "durationMinutes?": "5 <= number.integer <= 1440" });
export const ComplianceQuery = type({
  "format?": "'json' | 'csv' | 'pdf'",
  "clientId?": "string.uuid",
  "siteId?": "string.uuid",
  "groupId?": "string.uuid",
  "overdueDays?": type("string.integer.parse").pipe(type("0 <= number <= 365")),
  "limit?": Limit,
});
const ComplianceRow = type({
  deviceId: "string",
  hostname: "string",
  clientName: "string",
  siteName: "string",
  status: "'compliant' | 'missing' | 'failed' | 'unknown'",
  scannedAt: Timestamp.or("null"),
  missingCritical: "number",
  missingSecurity: "number",
  missingSince: Timestamp.or("null"),
  overdue: "boolean",
  failed: "number",
  pending: "number",
});
export const ComplianceReport = type({
  summary: {
    devices: "number",
    compliant: "number",
    missing: "number",
    failed: "number",
    unknown: "number",
    missingCritical: "number",
    missingSecurity: "number",
    overdue: "number",
  },
  items: ComplianceRow.array(),
  history: type({
    day: "string",
    devices: "number",
    compliant: "number",
    missingCritical: "number",
    missingSecurity: "number",
    failed: "number",
  }).array(),
});
