import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sendBeacon } from "../../agent/transport/beacon.ts";
import { createToken } from "../testing/fixtures.ts";
import { facts, otherOrganization, sample } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

/** A simulated Linux device enrolled through the API with these tags. */
async function device(tags: string[]): Promise<{ deviceId: string; secret: string }> {
  const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: await createToken(srv), agentVersion: "1", facts: facts(), tags }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { deviceId: string; secret: string };
}

let seq = 0;
/** One telemetry sample through the real beacon path, then waits for the rules (and the workflows they start). */
async function beacon(d: { deviceId: string; secret: string }, cpuPercent: number) {
  await sendBeacon(srv.url, d.deviceId, d.secret, "1", [{ seq: ++seq, samples: [sample(new Date(), cpuPercent)] }]);
  await srv.server.services.rules.idle();
  await srv.server.services.bus.settled();
}

async function createWorkflow(body: unknown): Promise<{ id: string; actions: unknown[] }> {
  const res = await srv.api("/api/v1/workflows", { body });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; actions: unknown[] };
}

type Run = { event: string; alertId: string | null; results: { action: string; ok: boolean; commandId?: string; skipped?: string }[] };
const runsOf = async (id: string) => ((await (await srv.api(`/api/v1/workflows/${id}/runs`)).json()) as { items: Run[] }).items;

const service = (name: string) => ({
  name: "x",
  trigger: { event: "alert.firing" },
  actions: [{ type: "restart_service", service: name }],
});

describe("workflow actions: restart a service, add a note", () => {
  test("workflows with the new actions are created and listed as sent", async () => {
    const actions = [
      { type: "restart_service", service: "getty@tty1.service" },
      { type: "add_note", text: "restarted by automation" },
    ];
    const wf = await createWorkflow({ name: "Restart getty", trigger: { event: "device.online" }, actions });
    expect(wf.actions).toEqual(actions);
    const { items } = (await (await srv.api("/api/v1/workflows")).json()) as { items: { id: string; actions: unknown[] }[] };
    expect(items.find((w) => w.id === wf.id)?.actions).toEqual(actions);
    expect((await srv.api(`/api/v1/workflows/${wf.id}`, { method: "DELETE" })).status).toBe(200);
  });

  test("the templates restart services instead of carrying their own scripts", async () => {
    const { items } = (await (await srv.api("/api/v1/workflow-templates")).json()) as {
      items: { name: string; trigger: { alertType?: string }; actions: { type: string; service?: string }[] }[];
    };
    const spooler = items.find((t) => t.name === "Print Spooler stopped: restart it");
    expect(spooler?.trigger.alertType).toBe("spooler_down");
    expect(spooler?.actions[0]).toEqual({ type: "restart_service", service: "Spooler" });
    // every template is a valid workflow body (removed again: later tests fire alerts they match)
    for (const t of items) {
      const wf = await createWorkflow(t);
      expect((await srv.api(`/api/v1/workflows/${wf.id}`, { method: "DELETE" })).status).toBe(200);
    }
  });

  test("bad input is 422: service names a shell could read, empty or long notes, unknown actions, too many actions", async () => {
    const bodies = [
      ...["foo; rm -rf /", "$(x)", "`x`", "print spooler", "a'b", 'a"b', "-h", ""].map(service),
      { name: "x", trigger: { event: "alert.firing" }, actions: [{ type: "restart_service" }] },
      { name: "x", trigger: { event: "alert.firing" }, actions: [{ type: "add_note", text: "" }] },
      { name: "x", trigger: { event: "alert.firing" }, actions: [{ type: "add_note", text: "n".repeat(2001) }] },
      { name: "x", trigger: { event: "alert.firing" }, actions: [{ type: "add_note" }] },
      { name: "x", trigger: { event: "alert.firing" }, actions: [{ type: "reboot_everything" }] },
      { name: "x", trigger: { event: "alert.firing" }, actions: Array.from({ length: 11 }, () => ({ type: "add_note", text: "n" })) },
    ];
    for (const body of bodies) {
      const res = await srv.api("/api/v1/workflows", { body });
      expect({ body, status: res.status }).toEqual({ body, status: 422 });
    }
  });

  test("unauthenticated is 401; another organization's workflow is 404; read-only cannot create", async () => {
    const wf = await createWorkflow({ name: "Mine", trigger: { event: "device.offline" }, actions: [{ type: "add_note", text: "n" }] });
    expect((await fetch(`${srv.url}/api/v1/workflows`)).status).toBe(401);
    expect((await fetch(`${srv.url}/api/v1/workflows/${wf.id}/runs`)).status).toBe(401);
    const other = await otherOrganization(srv.sql);
    const cookie = await login(srv.url, other.email, other.password);
    expect((await fetch(`${srv.url}/api/v1/workflows/${wf.id}`, { method: "DELETE", headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${srv.url}/api/v1/workflows/${wf.id}/runs`, { headers: { cookie } })).status).toBe(404);
    const theirs = (await (await fetch(`${srv.url}/api/v1/workflows`, { headers: { cookie } })).json()) as { items: unknown[] };
    expect(theirs.items).toEqual([]);
    expect((await srv.api(`/api/v1/workflows/${wf.id}/runs`)).status).toBe(200);

    await srv.api("/api/v1/users", { body: { email: "ro-wf@example.com", role: "readonly", password: "a long password" } });
    const ro = await login(srv.url, "ro-wf@example.com", "a long password");
    const post = await fetch(`${srv.url}/api/v1/workflows`, {
      method: "POST",
      headers: { cookie: ro, "content-type": "application/json" },
      body: JSON.stringify(service("nginx")),
    });
    expect(post.status).toBe(403);
    await srv.api(`/api/v1/workflows/${wf.id}`, { method: "DELETE" });
  });

  test("a firing alert queues the Linux restart on its device and notes the alert", async () => {
    const rule = await srv.api("/api/v1/alert-rules", {
      body: {
        name: "Nginx down",
        metric: "cpu_percent",
        operator: ">=",
        threshold: 0,
        durationSeconds: 0,
        severity: "critical",
        scope: { type: "tag", tag: "env=wf-actions" },
      },
    });
    expect(rule.status).toBe(201);
    const wf = await createWorkflow({
      name: "Restart nginx",
      trigger: { event: "alert.firing", alertType: "nginx_down" },
      actions: [
        { type: "restart_service", service: "nginx" },
        { type: "add_note", text: "nginx restart queued by automation" },
      ],
    });
    const d = await device(["env=wf-actions"]);
    await beacon(d, 50);

    // alert.changed reaches automation through the event bus, after the telemetry is stored
    const [run] = await waitFor("the workflow run", async () => ((await runsOf(wf.id)).length > 0 ? runsOf(wf.id) : undefined));
    expect(run?.event).toBe("alert.firing");
    expect(run?.results.map((r) => [r.action, r.ok])).toEqual([
      ["restart_service", true],
      ["add_note", true],
    ]);
    const command = (await (await srv.api(`/api/v1/commands/${run?.results[0]?.commandId}`)).json()) as {
      deviceId: string;
      type: string;
      status: string;
      actor: unknown;
      payload: { language: string; content: string; timeoutSeconds: number };
    };
    expect(command).toMatchObject({
      deviceId: d.deviceId,
      type: "run_script",
      payload: {
        language: "bash",
        content:
          "if [ -d /run/systemd/system ]; then systemctl restart -- nginx && systemctl is-active -- nginx; else service nginx restart && { for _ in 1 2 3 4 5 6 7 8 9 10; do service nginx status >/dev/null 2>&1 && break; sleep 0.5; done; service nginx status; }; fi",
        timeoutSeconds: 120,
      },
      actor: { type: "workflow", id: wf.id, name: "Restart nginx" },
    });
    const [audit] = await srv.sql<{ actorType: string; actorId: string; actorName: string }[]>`
      select actor_type as "actorType", actor_id as "actorId", actor_name as "actorName" from audit_log
      where details->>'commandId' = ${run?.results[0]?.commandId ?? ""}`;
    expect(audit).toEqual({ actorType: "workflow", actorId: wf.id, actorName: "Restart nginx" });

    const notes = (await (await srv.api(`/api/v1/alerts/${run?.alertId}/notes`)).json()) as {
      items: { userId: string | null; text: string }[];
    };
    expect(notes.items).toEqual([
      expect.objectContaining({
        userId: null,
        text: "nginx restart queued by automation",
        actor: { type: "workflow", id: wf.id, name: "Restart nginx" },
      }),
    ]);
    const [alert] = await srv.sql<{ deviceId: string; type: string }[]>`
      select device_id as "deviceId", type from alerts where id = ${run?.alertId ?? null}`;
    expect(alert).toEqual({ deviceId: d.deviceId, type: "nginx_down" });
  });

  test("add_note on an event without an alert is skipped, not failed; restart_service still runs", async () => {
    const wf = await createWorkflow({
      name: "Back online",
      trigger: { event: "device.online" },
      actions: [
        { type: "add_note", text: "never written" },
        { type: "restart_service", service: "ssh" },
      ],
    });
    const d = await device(["env=wf-online"]);
    const [org] = await srv.sql<{ id: string }[]>`select organization_id as id from devices where id = ${d.deviceId}`;
    // the event the status engine publishes when a device comes back
    srv.server.services.bus.publish("device.status", {
      changes: [{ id: d.deviceId, organizationId: org?.id ?? "", hostname: "host", previous: "offline", status: "online" }],
      at: Date.now(),
    });
    const [run] = await waitFor("the workflow run", async () => ((await runsOf(wf.id)).length > 0 ? runsOf(wf.id) : undefined));
    expect(run?.alertId).toBeNull();
    expect(run?.results[0]).toEqual({ action: "add_note", ok: true, skipped: "no alert to note" });
    expect(run?.results[1]).toMatchObject({ action: "restart_service", ok: true });
    const [cmd] = await srv.sql<{ content: string }[]>`
      select payload ->> 'content' as content from commands where id = ${run?.results[1]?.commandId ?? null}`;
    expect(cmd?.content).toBe(
      "if [ -d /run/systemd/system ]; then systemctl restart -- ssh && systemctl is-active -- ssh; else service ssh restart && { for _ in 1 2 3 4 5 6 7 8 9 10; do service ssh status >/dev/null 2>&1 && break; sleep 0.5; done; service ssh status; }; fi",
    );
  });
});
