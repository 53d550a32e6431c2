import type { api } from "./api.ts";

/** Shapes of the automation API, derived from the server's routes through Eden. */
type Data<F extends (...args: never[]) => Promise<{ data: unknown }>> = Exclude<Awaited<ReturnType<F>>["data"], null>;
type V1 = typeof api.api.v1;

export type Rule = Data<V1["alert-rules"]["get"]>["items"][number];
export type RuleBody = Parameters<V1["alert-rules"]["post"]>[0];
export type Channel = Data<V1["notification-channels"]["get"]>["items"][number];
export type ChannelType = Channel["type"];
export type DeadLetter = Data<V1["notification-dead-letters"]["get"]>["items"][number];
export type Workflow = Data<V1["workflows"]["get"]>["items"][number];
export type WorkflowBody = Parameters<V1["workflows"]["post"]>[0];
export type Template = Data<V1["workflow-templates"]["get"]>["items"][number];
export type Schedule = Data<V1["schedules"]["get"]>["items"][number];
export type ScheduleBody = Parameters<V1["schedules"]["post"]>[0];

export const METRICS = [
  { value: "cpu_percent", label: "CPU %" },
  { value: "memory_percent", label: "Memory %" },
  { value: "swap_percent", label: "Swap %" },
  { value: "disk_free_percent", label: "Disk free %" },
  { value: "load1", label: "Load (1 min)" },
] as const;
export const OPERATORS = [">", ">=", "<", "<="] as const;
export const SEVERITIES = ["info", "warning", "critical"] as const;
export const CHANNEL_TYPES = ["email", "slack", "teams", "discord", "telegram", "webhook", "sms"] as const;
export const EVENTS = ["alert.firing", "alert.resolved", "device.offline", "device.online"] as const;
export const LANGUAGES = ["bash", "sh", "powershell", "python"] as const;

/** A text field's trimmed value from a form. */
export const text = (f: FormData, name: string): string => String(f.get(name) ?? "").trim();
