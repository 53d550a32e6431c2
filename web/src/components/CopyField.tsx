import { createSignal } from "solid-js";
import { toast } from "../lib/toast.ts";

/** A command or secret in a code block with a Copy button (falls back to selecting the text). */
export function CopyField(props: { value: string; label: string; testid?: string }) {
  const [copied, setCopied] = createSignal(false);
  let codeEl: HTMLElement | undefined;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1800);
    } catch {
      // Clipboard needs a secure context; select the text so Ctrl+C works.
      if (codeEl) getSelection()?.selectAllChildren(codeEl);
      toast("info", "Press Ctrl+C (⌘C) to copy the selected text.");
    }
  };
  return (
    <div class="copy-field">
      <code ref={codeEl} data-testid={props.testid}>
        {props.value}
      </code>
      <button type="button" class="btn btn-sm" onClick={copy} aria-label={`Copy ${props.label}`}>
        <span aria-live="polite">{copied() ? "Copied" : "Copy"}</span>
      </button>
    </div>
  );
}
