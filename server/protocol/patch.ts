import { type } from "arktype";
import {
  MAX_INSTALL_UPDATES,
  MAX_PENDING_UPDATES,
  MAX_SOFTWARE_ITEMS,
  PACKAGE_NAME_PATTERN,
  PACKAGE_VERSION_PATTERN,
} from "./patch-limits.ts";

export * from "./patch-limits.ts";

/**
 * Patch management on the wire: the `patch` call (a scan: software inventory as a delta against the
 * server's copy, and the pending updates), and the `patch_install` command spec. Every string that
 * reaches a package manager's argument vector has a strict pattern here, checked by the server and
 * again by the agent (its valibot copy is generated from these schemas); nothing is ever run through
 * a shell.
 */

const PackageName = type(new RegExp(PACKAGE_NAME_PATTERN)).configure({
  description: "a package name or update id: letters, digits and + . _ : @ / - (no spaces or shell metacharacters)",
});
const PackageVersion = type(new RegExp(PACKAGE_VERSION_PATTERN)).configure({
  description: "a package version: letters, digits and . + ~ : _ -",
});

/** Where an installed program was found. */
const SoftwareSource = type("'dpkg' | 'rpm' | 'registry' | 'winget' | 'applications' | 'brew'");

/** One installed program. `installedAt` is epoch ms when the OS tells it. */
export const SoftwareItem = type({
  source: SoftwareSource,
  name: "0 < string <= 256",
  version: "string <= 128",
  /** Architecture when the source has several per name (dpkg multiarch), else "". */
  arch: "string <= 32",
  publisher: "string <= 256 | null",
  installedAt: "number.integer >= 0 | null",
});
export type SoftwareItem = typeof SoftwareItem.infer;
/** What identifies an item inside one device's inventory. */
export const SoftwareKey = type({ source: SoftwareSource, name: "0 < string <= 256", arch: "string <= 32" });
export type SoftwareKey = typeof SoftwareKey.infer;

/** A hash of a whole inventory (hex of SHA-256 over its sorted items). */
const Hash = type(/^[0-9a-f]{64}$/);

/**
 * The inventory in a scan: the whole list the first time (or when the server's copy is not the one
 * the agent last sent), else the changes since the server's `base`, or `same` when nothing changed.
 * A delta the server did not store leaves its hash behind, so the next scan sends the whole list.
 */
export const InventoryPayload = type({
  mode: "'full'",
  hash: Hash,
  items: SoftwareItem.array().atMostLength(MAX_SOFTWARE_ITEMS),
  truncated: "boolean",
})
  .or({
    mode: "'delta'",
    base: Hash,
    hash: Hash,
    added: SoftwareItem.array().atMostLength(MAX_SOFTWARE_ITEMS),
    changed: SoftwareItem.array().atMostLength(MAX_SOFTWARE_ITEMS),
    removed: SoftwareKey.array().atMostLength(MAX_SOFTWARE_ITEMS),
  })
  .or({ mode: "'same'", hash: Hash });
export type InventoryPayload = typeof InventoryPayload.infer;

/** The package managers and update sources the agent reads. */
export const UpdateSource = type("'apt' | 'dnf' | 'zypper' | 'wua' | 'winget' | 'choco' | 'softwareupdate' | 'brew'");
export type UpdateSource = typeof UpdateSource.infer;
export const Classification = type("'critical' | 'security' | 'feature' | 'other'");
export type Classification = typeof Classification.infer;

/** One pending update as the device's package manager reports it. */
export const PendingUpdate = type({
  source: UpdateSource,
  /** What the package manager installs it by: a package name, a KB / update id, a winget id. */
  name: PackageName,
  title: "0 < string <= 512",
  currentVersion: "string <= 128 | null",
  version: PackageVersion,
  classification: Classification,
  /** The source's own severity (Critical, Important, Moderate…) when it names one. */
  severity: "string <= 32 | null",
  /** CVE, KB or advisory ids the source gives. */
  ids: "(0 < string <= 64)[] <= 32",
  /** Where it comes from (an apt archive, a dnf advisory, a Windows Update category). */
  origin: "string <= 256 | null",
  sizeBytes: "number.integer >= 0 | null",
  rebootRequired: "boolean | null",
});
export type PendingUpdate = typeof PendingUpdate.infer;

/** What a `patch` call asks of the agent. `inventoryHash` is the server's copy (null: none). */
export const PatchRequest = type({ op: "'scan'", inventoryHash: Hash.or("null"), refresh: "boolean" });
export type PatchRequest = typeof PatchRequest.infer;

/** A package manager the scan could not read, and why. */
const ScanProblem = type({ source: "0 < string <= 32", code: "0 < string <= 64", message: "string <= 1024" });

/** The answer to a scan. */
export const PatchScan = type({
  inventory: InventoryPayload,
  updates: PendingUpdate.array().atMostLength(MAX_PENDING_UPDATES),
  /** Update sources read (apt, winget…). */
  sources: "string[] <= 16",
  problems: ScanProblem.array().atMostLength(16),
  durationMs: "number.integer >= 0",
  /** The agent's peak resident memory so far (bytes), when the OS tells it. */
  peakRssBytes: "number.integer >= 0 | null",
});
export type PatchScan = typeof PatchScan.infer;

/** The reboot policy of an install. */
export const RebootPolicy = type("'never' | 'if_needed' | 'force'");
export type RebootPolicy = typeof RebootPolicy.infer;

/** Install these updates (in order), each to exactly this version, then reboot by the policy. */
export const PatchInstallSpec = type({
  kind: "'patch_install'",
  updates: type({ source: UpdateSource, name: PackageName, version: PackageVersion })
    .array()
    .moreThanLength(0)
    .atMostLength(MAX_INSTALL_UPDATES),
  reboot: RebootPolicy,
  rebootDelaySeconds: "0 <= number.integer <= 3600",
  timeoutSeconds: "1 <= number.integer <= 86400",
});
export type PatchInstallSpec = typeof PatchInstallSpec.infer;
