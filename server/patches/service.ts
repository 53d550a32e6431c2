import { type } from "arktype";
import type { Sql } from "postgres";
import type { AgentHub } from "../agents/hub.ts";
import type { Actor } from "../audit/actor.ts";
import type { CommandDispatcher } from "../commands/service.ts";
import type { EventBus } from "../events/bus.ts";
import { AppError, Conflict } from "../errors.ts";
import { log } from "../log.ts";
import { PatchScan, type RebootPolicy } from "../protocol/patch.ts";
import { applyInventory, storedInventoryHash } from "./inventory.store.ts";
import { markInstalling, recordScan, recordScanFailure, settleInstall } from "./updates.store.ts";

/** How long a scan may take on the agent (apt-get update on a slow mirror, Windows Update's search), ms. */
const SCAN_DEADLINE_MS = 15 * 60_000;
/** How long one install command may run on the agent, s. */
const INSTALL_TIMEOUT_S = 3 * 3600;

/** What a scan found, as the API answers it. */
export interface ScanSummary {
  scannedAt: Date;
  durationMs: number;
  peakRssBytes: number | null;
  inventory: { mode: string; stored: boolean; items: number | null };
  updates: number;
  security: number;
  sources: string[];
  problems: { source: string; code: string; message: string }[];
}

function agentFailure(code: string, message?: string): AppError {
  switch (code) {
    case "NOT_CONNECTED":
    case "DISCONNECTED":
      return new Conflict("DEVICE_OFFLINE", "the device is not connected; it is scanned when it is back");
    case "TOO_MANY_CALLS":
      return new AppError(429, "AGENT_BUSY", "too many requests to this device at once");
    case "DEADLINE_EXCEEDED":
      return new AppError(503, "AGENT_TIMEOUT", "the device did not finish its scan in time");
    case "UNSUPPORTED":
      return new Conflict("UNSUPPORTED_ON_DEVICE", "this agent cannot scan for updates (update it)");
    default:
      return new AppError(503, "SCAN_FAILED", message ? `the device reported ${code}: ${message}` : `the device reported ${code}`);
  }
}

/**
 * Patch management's logic: scans (one `patch` call to the connected agent; the inventory applied as
 * a delta against what is stored, the updates recorded), installs (one `patch_install` command per
 * device through the command dispatcher, so it is queued, audited, journaled on the agent and its
 * output streamed like any command), and settling an install once its command finished.
 */
export class Patches {
  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
    private readonly commands: CommandDispatcher,
    /** Where `device.changed` goes after a scan (smart groups read patch.critical_missing). */
    private readonly bus: EventBus,
  ) {}

  /** Scans in flight by device: a second request while one runs gets the same answer. */
  private readonly scanning = new Map<string, Promise<ScanSummary>>();

  /** Scans a connected device now (joining a scan already running); coded AppErrors when it cannot be asked or fails. */
  scan(organizationId: string, deviceId: string, refresh: boolean): Promise<ScanSummary> {
    const running = this.scanning.get(deviceId);
    if (running) return running;
    const p = this.scanOnce(organizationId, deviceId, refresh).finally(() => this.scanning.delete(deviceId));
    this.scanning.set(deviceId, p);
    return p;
  }

  private async scanOnce(organizationId: string, deviceId: string, refresh: boolean): Promise<ScanSummary> {
    const inventoryHash = await storedInventoryHash(this.sql, deviceId);
    const r = await this.agents.call(deviceId, { type: "patch", data: { op: "scan", inventoryHash, refresh } }, SCAN_DEADLINE_MS);
    if (!r.ok) {
      await recordScanFailure(this.sql, organizationId, deviceId, r.code.slice(0, 64));
      throw agentFailure(r.code, r.message);
    }
    const scan = PatchScan(r.data);
    if (scan instanceof type.errors) {
      log("warn", "patch scan does not match the protocol", { deviceId, problem: scan.summary.slice(0, 300) });
      await recordScanFailure(this.sql, organizationId, deviceId, "AGENT_BAD_REPLY");
      throw new AppError(503, "AGENT_BAD_REPLY", "the device's scan does not match the protocol");
    }
    const at = new Date();
    const stored = await applyInventory(this.sql, organizationId, deviceId, scan.inventory);
    await recordScan(this.sql, organizationId, deviceId, scan, at);
    this.bus.publish("device.changed", { deviceIds: [deviceId] });
    const inv = scan.inventory;
    return {
      scannedAt: at,
      durationMs: scan.durationMs,
      peakRssBytes: scan.peakRssBytes,
      inventory: { mode: inv.mode, stored, items: inv.mode === "full" ? inv.items.length : null },
      updates: scan.updates.length,
      security: scan.updates.filter((u) => u.classification === "security" || u.classification === "critical").length,
      sources: scan.sources,
      problems: scan.problems,
    };
  }

  /**
   * Queues one install command per device for these updates (each `{id, deviceId, source, name, version}`,
   * already checked by the caller), marks them installing, and returns the commands. `expiresInMs`: a
   * device offline that long does not get it (a window's end).
   */
  async install(o: {
    organizationId: string;
    updates: { id: string; deviceId: string; source: string; name: string; version: string }[];
    actor: Actor;
    reboot: RebootPolicy;
    rebootDelaySeconds: number;
    expiresInMs: number;
    ip?: string | null;
  }): Promise<{ deviceId: string; commandId: string; updates: number }[]> {
    const byDevice = new Map<string, typeof o.updates>();
    for (const u of o.updates) byDevice.set(u.deviceId, [...(byDevice.get(u.deviceId) ?? []), u]);
    const out: { deviceId: string; commandId: string; updates: number }[] = [];
    for (const [deviceId, updates] of byDevice) {
      const [cmd] = await this.commands.enqueue({
        organizationId: o.organizationId,
        deviceIds: [deviceId],
        spec: {
          kind: "patch_install",
          updates: updates.map((u) => ({ source: u.source as never, name: u.name, version: u.version })),
          reboot: o.reboot,
          rebootDelaySeconds: o.rebootDelaySeconds,
          timeoutSeconds: INSTALL_TIMEOUT_S,
        },
        scriptId: null,
        actor: o.actor,
        expiresInMs: o.expiresInMs,
        ip: o.ip ?? null,
      });
      if (!cmd) continue;
      await markInstalling(
        this.sql,
        cmd.id,
        updates.map((u) => u.id),
      );
      out.push({ deviceId, commandId: cmd.id, updates: updates.length });
    }
    return out;
  }

  /**
   * An install command finished: rescan the device when it is connected (the package manager says
   * what is really installed now), then settle each of the command's updates. Without a rescan the
   * command's own status decides, and the next scan corrects it.
   */
  async settle(organizationId: string, deviceId: string, commandId: string, succeeded: boolean, error: string | null): Promise<void> {
    let scannedAt: Date | null = null;
    if (this.agents.get(deviceId)) {
      try {
        scannedAt = (await this.scan(organizationId, deviceId, false)).scannedAt;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        log("warn", "no rescan after an install", { deviceId, commandId, code: err.code });
      }
    }
    const settled = await settleInstall(this.sql, commandId, { scannedAt, succeeded, error });
    if (settled.length > 0) this.bus.publish("device.changed", { deviceIds: [deviceId] });
    log("info", "install settled", {
      deviceId,
      commandId,
      installed: settled.filter((s) => s.state === "installed").length,
      failed: settled.filter((s) => s.state === "failed").length,
    });
  }
}
