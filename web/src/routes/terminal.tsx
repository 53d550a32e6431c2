import { A, useParams } from "@solidjs/router";
import { createEffect, createResource } from "solid-js";
import { Terminal } from "../components/Terminal.tsx";
import { api, call } from "../lib/api.ts";

/** A full-page shell on one device; xterm.js lives in this chunk only. */
export default function TerminalPage() {
  const params = useParams<{ id: string }>();
  const [device] = createResource(
    () => params.id,
    (id) => call(api.api.v1.devices({ id }).get()),
  );
  const name = () => (device.error ? undefined : device.latest?.hostname);
  createEffect(() => {
    document.title = `Terminal · ${name() ?? "Device"} · SENTpulse`;
  });
  return (
    <div class="device-page">
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <A href="/devices">Devices</A> <span aria-hidden="true">/</span> <A href={`/devices/${params.id}`}>{name() ?? "Device"}</A>{" "}
        <span aria-hidden="true">/</span> <span aria-current="page">Terminal</span>
      </nav>
      <section class="card section" aria-label="Terminal">
        <Terminal deviceId={params.id} />
      </section>
    </div>
  );
}
