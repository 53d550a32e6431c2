import { addNote } from "../alerts/store.ts";
import type { Sql } from "postgres";
import type { CommandDispatcher } from "../commands/service.ts";
import type { Notifier } from "../notifications/service.ts";
import type { Actor } from "../audit/actor.ts";
import { scriptSpec } from "../library/spec.ts";
import { log } from "../log.ts";
import type { CommandSpec } from "../protocol/frames.ts";
import { restartServiceSpec } from "./restart-service.ts";
import {
  type Action,
  type ActionResult,
  type WorkflowEvent,
  type WorkflowRow,
  deviceOs,
  getWorkflow,
  insertRun,
  matching,
} from "./store.ts";

export interface AutomationEvent {
  organizationId: string;
  deviceId: string;
  event: WorkflowEvent;
  alertId?: string | null;
  alertType?: string;
  summary: string;
}

/**
 * Runs the workflows an event starts (alert firing or resolved, device offline or back): each
 * action in order — a script or a service restart on the device (a command like any other, so an
 * offline device runs it when it returns), a notification, or a note on the alert — and records
 * every run with each action's result.
 */
export class Automation {
  constructor(
    private readonly sql: Sql,
    private readonly notifier: Notifier,
    private readonly commands: CommandDispatcher,
  ) {}

  async handle(e: AutomationEvent): Promise<void> {
    await this.handleAll([e]);
  }

  /**
   * Events of one organization, kind and alert type (devices coming back after a restart, thousands at
   * once): the workflows they start are looked up once.
   */
  async handleAll(events: AutomationEvent[]): Promise<void> {
    const [first] = events;
    if (!first) return;
    let workflows: WorkflowRow[];
    try {
      workflows = await matching(this.sql, first.organizationId, first.event, first.alertType);
    } catch (err) {
      log("error", "workflow failed", {
        event: first.event,
        devices: events.length,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    for (const e of events) {
      try {
        for (const wf of workflows) await this.execute(wf, e);
      } catch (err) {
        log("error", "workflow failed", { event: e.event, deviceId: e.deviceId, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** A schedule's occurrence: its workflow runs once for each of its devices. */
  async runScheduled(organizationId: string, workflowId: string, deviceIds: string[], scheduleName: string): Promise<void> {
    try {
      const wf = await getWorkflow(this.sql, organizationId, workflowId);
      if (!wf?.enabled) return;
      for (const deviceId of deviceIds)
        await this.execute(wf, { organizationId, deviceId, event: "schedule", summary: `Schedule "${scheduleName}"` });
    } catch (err) {
      log("error", "scheduled workflow failed", { workflowId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Runs a workflow's actions in order for one event and records the run. */
  private async execute(wf: WorkflowRow, e: AutomationEvent): Promise<void> {
    const results: ActionResult[] = [];
    const actor: Actor = { type: "workflow", id: wf.id, name: wf.name };
    for (const action of wf.actions) results.push(await this.run(action, e, actor));
    await insertRun(this.sql, {
      workflowId: wf.id,
      organizationId: e.organizationId,
      deviceId: e.deviceId,
      event: e.event,
      alertId: e.alertId ?? null,
      results,
    });
    log("info", "workflow ran", { workflowId: wf.id, deviceId: e.deviceId, event: e.event });
  }

  private async run(action: Action, e: AutomationEvent, actor: Actor): Promise<ActionResult> {
    try {
      switch (action.type) {
        case "notify":
          await this.notifier.notify(e.organizationId, action.channelIds, e.alertId ?? null, e.event, {
            subject: `Automation: ${e.summary}`,
            text: e.summary,
          });
          return { action: "notify", ok: true };
        case "add_note":
          return await this.note(action.text, e, actor);
        case "restart_service": {
          const os = await deviceOs(this.sql, e.organizationId, e.deviceId);
          if (!os) throw new Error("the device no longer exists");
          return {
            action: "restart_service",
            ok: true,
            commandId: await this.queue(e, actor, restartServiceSpec(os, action.service), null),
          };
        }
        case "run_script": {
          const spec = await scriptSpec(this.sql, e.organizationId, action);
          return { action: "run_script", ok: true, commandId: await this.queue(e, actor, spec, action.scriptId ?? null) };
        }
      }
    } catch (err) {
      return { action: action.type, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * Adds a note, written by the workflow, to the alert that started the run. Device offline/online
   * events carry no alert, so there the action is skipped, not failed.
   */
  private async note(text: string, e: AutomationEvent, actor: Actor): Promise<ActionResult> {
    if (!e.alertId) return { action: "add_note", ok: true, skipped: "no alert to note" };
    if (!(await addNote(this.sql, e.organizationId, e.alertId, actor, text))) throw new Error("the alert no longer exists");
    return { action: "add_note", ok: true };
  }

  /** Queues a command for the event's device (an offline device runs it when it returns, within a day). */
  private async queue(e: AutomationEvent, actor: Actor, spec: CommandSpec, scriptId: string | null): Promise<string> {
    const [row] = await this.commands.enqueue({
      organizationId: e.organizationId,
      deviceIds: [e.deviceId],
      spec,
      scriptId,
      actor,
      expiresInMs: 86_400_000,
    });
    if (!row) throw new Error("no command was queued");
    return row.id;
  }
}

/** The seed's self-healing scenarios, ready to adopt (POST them to /api/v1/workflows). */
export const WORKFLOW_TEMPLATES = [
  {
    name: "Disk below 5 % free: clean up",
    trigger: { event: "alert.firing", alertType: "disk_critical" },
    actions: [
      {
        type: "run_script",
        language: "bash",
        timeoutSeconds: 600,
        content: [
          "#!/bin/bash",
          "# Frees space without touching user data: package caches, old journal entries, temp files older than 7 days.",
          "set -u",
          "df -h /",
          "command -v apt-get >/dev/null && apt-get clean",
          "command -v dnf >/dev/null && dnf clean all -q",
          "command -v journalctl >/dev/null && journalctl --vacuum-time=7d -q",
          "find /tmp /var/tmp -xdev -type f -mtime +7 -delete 2>/dev/null",
          "df -h /",
        ].join("\n"),
      },
    ],
  },
  {
    name: "Windows disk below 5 % free: clean up",
    trigger: { event: "alert.firing", alertType: "disk_critical" },
    actions: [
      {
        type: "run_script",
        language: "powershell",
        timeoutSeconds: 900,
        content: [
          'Get-ChildItem $env:TEMP, "$env:SystemRoot\\Temp" -Recurse -Force -ErrorAction SilentlyContinue |',
          "  Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-7) } | Remove-Item -Force -Recurse -ErrorAction SilentlyContinue",
          "Clear-RecycleBin -Force -ErrorAction SilentlyContinue",
        ].join("\n"),
      },
    ],
  },
  {
    name: "Print Spooler stopped: restart it",
    trigger: { event: "alert.firing", alertType: "spooler_down" },
    actions: [
      { type: "restart_service", service: "Spooler" },
      {
        type: "add_note",
        text: "Automation queued a restart of the Print Spooler service; its result is in the device's command history.",
      },
    ],
  },
  {
    name: "nginx down: restart it",
    trigger: { event: "alert.firing", alertType: "nginx_down" },
    actions: [
      { type: "restart_service", service: "nginx" },
      { type: "add_note", text: "Automation queued a restart of nginx; systemctl's answer is in the device's command history." },
    ],
  },
] as const;
