import { type api, errorMessage } from "./api.ts";
import { toast } from "./toast.ts";

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
export type WorkflowAction = WorkflowBody["actions"][number];
export type ActionType = WorkflowAction["type"];
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
export const EVENTS = ["alert.firing", "alert.resolved", "device.offline", "device.online", "schedule"] as const;
export const LANGUAGES = ["bash", "sh", "powershell", "python"] as const;

export const ACTION_TYPES = [
  { value: "run_script", label: "Run a script" },
  { value: "restart_service", label: "Restart a service" },
  { value: "notify", label: "Notify channels" },
  { value: "add_note", label: "Add a note to the alert" },
] as const satisfies readonly { value: ActionType; label: string }[];
export const MAX_ACTIONS = 10;
/** The server's rule for service names (it is the authority; this only gives the message early). */
export const SERVICE_NAME = /^[A-Za-z0-9_.@][A-Za-z0-9_.@-]{0,127}$/;

/** One workflow action in words, for the workflow list; `channelName` names notify targets. */
export function describeAction(a: WorkflowAction, channelName: (id: string) => string | undefined = () => undefined): string {
  switch (a.type) {
    case "run_script":
      return a.scriptId ? "run a library script" : `run a ${a.language ?? ""} script`.replace("  ", " ");
    case "restart_service":
      return `restart service ${a.service}`;
    case "notify":
      return `notify ${a.channelIds.map((id) => channelName(id) ?? "a deleted channel").join(", ") || "no channels"}`;
    case "add_note":
      return `note "${a.text.length > 60 ? `${a.text.slice(0, 57)}…` : a.text}"`;
  }
}

/** A text field's trimmed value from a form. */
export const text = (f: FormData, name: string): string => String(f.get(name) ?? "").trim();

/** Runs a change through the API, then `done` (a refetch); a toast says it worked (when `success` is given) or why not. */
export async function apply(request: () => Promise<unknown>, done: () => void, success?: string): Promise<void> {
  try {
    await request();
    if (success) toast("success", success);
    done();
  } catch (err) {
    toast("error", errorMessage(err));
  }
}
