import type { Services } from "../context.ts";
import { insertCommand } from "../commands/store.ts";
import { getScript } from "../library/store.ts";
import { log } from "../log.ts";
import type { CommandSpec } from "../protocol/frames.ts";
import { type Action, type ActionResult, type WorkflowEvent, insertRun, matching } from "./store.ts";

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
 * action in order — a script on the device (a command like any other, so an offline device runs it
 * when it returns), or a notification — and records every run with each action's result.
 */
export class Automation {
  constructor(private readonly s: Services) {}

  async handle(e: AutomationEvent): Promise<void> {
    try {
      for (const wf of await matching(this.s.sql, e.organizationId, e.event, e.alertType)) {
        const results: ActionResult[] = [];
        for (const action of wf.actions) results.push(await this.run(action, e));
        await insertRun(this.s.sql, {
          workflowId: wf.id,
          organizationId: e.organizationId,
          deviceId: e.deviceId,
          event: e.event,
          alertId: e.alertId ?? null,
          results,
        });
        log("info", "workflow ran", { workflowId: wf.id, deviceId: e.deviceId, event: e.event });
      }
    } catch (err) {
      log("error", "workflow failed", { event: e.event, deviceId: e.deviceId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private async run(action: Action, e: AutomationEvent): Promise<ActionResult> {
    try {
      if (action.type === "notify") {
        await this.s.notifier.notify(e.organizationId, action.channelIds, e.alertId ?? null, e.event, {
          subject: `Automation: ${e.summary}`,
          text: e.summary,
        });
        return { action: "notify", ok: true };
      }
      const spec = await this.specFor(e.organizationId, action);
      const row = await insertCommand(this.s.sql, {
        id: Bun.randomUUIDv7(),
        organizationId: e.organizationId,
        deviceId: e.deviceId,
        spec,
        scriptId: action.scriptId ?? null,
        requestedBy: null,
        expiresAt: new Date(Date.now() + 86_400_000),
      });
      await this.s.commands.dispatch(row);
      return { action: "run_script", ok: true, commandId: row.id };
    } catch (err) {
      return { action: action.type, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  private async specFor(organizationId: string, a: Extract<Action, { type: "run_script" }>): Promise<CommandSpec> {
    if (a.scriptId) {
      const script = await getScript(this.s.sql, organizationId, a.scriptId);
      if (!script) throw new Error("the workflow's script no longer exists");
      return {
        kind: "run_script",
        language: script.language,
        content: script.content,
        args: a.args ?? script.defaultArgs,
        env: {},
        timeoutSeconds: a.timeoutSeconds ?? script.timeoutSeconds,
      };
    }
    if (!a.language || !a.content) throw new Error("run_script needs scriptId, or language and content");
    return {
      kind: "run_script",
      language: a.language,
      content: a.content,
      args: a.args ?? [],
      env: {},
      timeoutSeconds: a.timeoutSeconds ?? 300,
    };
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
      {
        type: "run_script",
        language: "powershell",
        timeoutSeconds: 120,
        content: "Restart-Service -Name Spooler -Force\nGet-Service -Name Spooler",
      },
    ],
  },
] as const;
