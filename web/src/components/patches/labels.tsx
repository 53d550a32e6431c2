import { For, Show } from "solid-js";
import "./labels.css";
/** Shared labels of the patch views: classification, state and approval pills. */
export const CLASS_PILL: Record<string, string> = {
  critical: "sev sev-critical",
  security: "sev sev-warning",
  feature: "pill",
  other: "pill",
};
export const STATE_LABEL: Record<string, string> = {
  pending: "pending",
  installing: "installing…",
  installed: "installed",
  failed: "failed",
  resolved: "no longer needed",
};
export const STATE_PILL: Record<string, string> = {
  pending: "pill",
  installing: "pill pill-live",
  installed: "pill pill-ok",
  failed: "pill pill-bad",
  resolved: "pill",
};
export const APPROVAL_LABEL: Record<string, string> = {
  approved: "approved",
  denied: "denied",
  awaiting: "awaiting approval",
  excluded: "excluded",
  ring_wait: "waiting for the pilot ring",
};
export const APPROVAL_PILL: Record<string, string> = {
  approved: "pill pill-ok",
  denied: "pill pill-bad",
  awaiting: "pill pill-live",
  excluded: "pill",
  ring_wait: "pill",
};
export const COMPLIANCE_PILL: Record<string, string> = {
  compliant: "pill pill-ok",
  missing: "sev sev-warning",
  failed: "pill pill-bad",
  unknown: "pill",
};
export const COMPLIANCE_LABEL: Record<string, string> = {
  compliant: "fully patched",
  missing: "missing updates",
  failed: "install failed",
  unknown: "never scanned",
};

/** How many ids a row shows before "+N more" (the rest are in the title). */
const IDS_SHOWN = 6;

/** An update's CVE, KB and advisory ids as small chips (CVE ids first), the rest counted. */
export function UpdateIds(props: { ids: string[] }) {
  const sorted = () => [...props.ids].sort((a, b) => Number(!a.startsWith("CVE-")) - Number(!b.startsWith("CVE-")));
  return (
    <Show when={props.ids.length > 0}>
      <div class="update-ids" data-testid="update-ids" title={props.ids.join(", ")}>
        <For each={sorted().slice(0, IDS_SHOWN)}>{(id) => <span class="id-chip">{id}</span>}</For>
        <Show when={props.ids.length > IDS_SHOWN}>
          <span class="muted small">+{props.ids.length - IDS_SHOWN} more</span>
        </Show>
      </div>
    </Show>
  );
}
