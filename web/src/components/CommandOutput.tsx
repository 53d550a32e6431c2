import { Show } from "solid-js";
import { type CommandView, FINAL, statusClass } from "../lib/commands.ts";
import "./commands.css";

/** Status, exit code and output of one command; stderr is shown after stdout, in the warning colour. */
export function CommandOutput(props: { view: CommandView }) {
  return (
    <div class="command-output-wrap">
      <p class="command-meta">
        <span class={statusClass(props.view.status)} data-testid="command-status" data-status={props.view.status}>
          {props.view.status.replace("_", " ")}
        </span>
        <Show when={props.view.exitCode !== null}>
          <span class="muted" data-testid="command-exit">
            exit code {props.view.exitCode}
          </span>
        </Show>
        <Show when={!FINAL.has(props.view.status)}>
          <span class="muted">waiting for output…</span>
        </Show>
      </p>
      <pre class="command-output" data-testid="command-output" role="log" aria-label="Command output">
        {props.view.stdout}
        <Show when={props.view.stderr}>
          <span class="stderr">{props.view.stderr}</span>
        </Show>
      </pre>
    </div>
  );
}
