import { For, Show, createMemo, createResource, createSignal } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import { FilePane, PromptDialog } from "./files-pane.tsx";
import { TransfersPanel, createTransfers } from "./files-transfers.tsx";
import "./files.css";

/**
 * The device's background file explorer (the Files tab): two panes side by side (drag a row from
 * one to the other to copy it, drop files from the desktop to upload), the session's privilege
 * (unprivileged by default; elevating needs its own permission and a reason, shown here while it
 * lasts), and the transfers panel.
 */
export default function FilesTab(props: { deviceId: string; os: string }) {
  const [version, setVersion] = createSignal(0);
  const bump = () => setVersion((v) => v + 1);
  const transfers = createTransfers(() => props.deviceId, bump);
  const [elevation, { refetch }] = createResource(
    () => props.deviceId,
    async (id) => (await call(api.api.v1.devices({ id }).files.elevation.get())).elevation,
  );
  const [asking, setAsking] = createSignal(false);
  // the right pane may show another device: drop a file on it to copy it there through the server
  const [others, setOthers] = createSignal<{ id: string; hostname: string; status: string; os: string }[]>();
  const loadOthers = async () => {
    if (others()) return;
    try {
      const list = await call(api.api.v1.devices.get({ query: { limit: 200 } }));
      setOthers(
        list.items.filter((d) => d.id !== props.deviceId).map((d) => ({ id: d.id, hostname: d.hostname, status: d.status, os: d.os })),
      );
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };
  const [rightId, setRightId] = createSignal(props.deviceId);
  // the same device keeps its pane (and the folder it shows) when the list of others loads
  const right = createMemo(
    () =>
      rightId() === props.deviceId
        ? { id: props.deviceId, os: props.os }
        : (others()?.find((d) => d.id === rightId()) ?? { id: props.deviceId, os: props.os }),
    undefined,
    { equals: (a, b) => a?.id === b?.id },
  );
  const elevated = () => Boolean(elevation.latest);
  const home = props.os === "windows" ? "C:\\" : "/";
  const canWrite = () => can("device:files");

  const elevate = async (reason: string) => {
    try {
      await call(api.api.v1.devices({ id: props.deviceId }).files.elevation.post({ reason }));
      toast("success", "This session acts as root/SYSTEM for 15 minutes.");
      void refetch();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };
  const drop = async () => {
    try {
      await call(api.api.v1.devices({ id: props.deviceId }).files.elevation.delete());
      void refetch();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };

  return (
    <div class="files-tab">
      <div class="card files-session" data-testid="files-session" data-elevated={String(elevated())}>
        <Show
          when={elevation.latest}
          fallback={
            <span>
              <span class="pill">Unprivileged</span>{" "}
              {props.os === "windows"
                ? "File operations are checked against the rights of the user signed in at the device's console."
                : "File operations run as an unprivileged account on the device."}
            </span>
          }
        >
          {(e) => (
            <span>
              <span class="pill pill-warn">Elevated</span> Acting as root/SYSTEM until {dateTime(e().expiresAt)} — reason: “{e().reason}”
            </span>
          )}
        </Show>
        <Show when={can("device:files:elevate")}>
          <Show
            when={elevated()}
            fallback={
              <button type="button" class="btn btn-sm" onClick={() => setAsking(true)} data-testid="files-elevate">
                Elevate…
              </button>
            }
          >
            <button type="button" class="btn btn-sm" onClick={() => void drop()}>
              End elevation
            </button>
          </Show>
        </Show>
      </div>
      <div class="files-panes">
        <FilePane
          label="Left pane"
          deviceId={props.deviceId}
          elevated={elevated()}
          canWrite={canWrite()}
          initial={home}
          os={props.os}
          transfers={transfers}
          version={version()}
          onChanged={bump}
        />
        <div class="files-right">
          <label class="files-device">
            <span>Right pane shows</span>
            <select
              data-testid="files-right-device"
              value={right()?.id ?? props.deviceId}
              onChange={(e) => setRightId(e.currentTarget.value)}
              onFocus={() => void loadOthers()}
            >
              <option value={props.deviceId}>this device</option>
              <For each={others() ?? []}>
                {(d) => (
                  <option value={d.id}>
                    {d.hostname} ({d.status})
                  </option>
                )}
              </For>
            </select>
          </label>
          <Show when={right()} keyed>
            {(r) => (
              <FilePane
                label="Right pane"
                deviceId={r.id}
                elevated={r.id === props.deviceId && elevated()}
                canWrite={canWrite()}
                initial={r.os === "windows" ? "C:\\" : "/tmp"}
                os={r.os}
                transfers={transfers}
                version={version()}
                onChanged={bump}
              />
            )}
          </Show>
        </div>
      </div>
      <TransfersPanel transfers={transfers} />
      <PromptDialog
        open={asking()}
        title="Elevate this session"
        label="Why do you need root/SYSTEM? (recorded in the audit log)"
        value=""
        confirmLabel="Elevate for 15 minutes"
        testId="elevate-dialog"
        onClose={() => setAsking(false)}
        onConfirm={(reason) => void elevate(reason)}
      />
    </div>
  );
}
