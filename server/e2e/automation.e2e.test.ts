import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

let srv: TestServer;
let agent: EnrolledAgent;
beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 1 });
  agent = await enrollRealAgent(srv, ["env=automation"]);
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
});

describe("self-healing with the real agent", () => {
  test("a disk-low workflow runs its script on the agent when the alert fires, and records the result", async () => {
    // a threshold this machine always crosses stands in for a full disk
    const rule = await srv.api("/api/v1/alert-rules", {
      body: {
        name: "Disk nearly full",
        metric: "disk_free_percent",
        operator: "<",
        threshold: 101,
        durationSeconds: 0,
        severity: "critical",
        scope: { type: "tag", tag: "env=automation" },
      },
    });
    expect(rule.status).toBe(201);
    const templates = (await (await srv.api("/api/v1/workflow-templates")).json()) as {
      items: { name: string; trigger: { alertType: string } }[];
    };
    expect(templates.items[0]?.trigger.alertType).toBe("disk_critical");
    const wf = await srv.api("/api/v1/workflows", {
      body: {
        name: "Clean up when the disk is nearly full",
        trigger: { event: "alert.firing", alertType: "disk_nearly_full" },
        actions: [{ type: "run_script", language: "bash", content: "echo cleaned-up on $(hostname)" }],
      },
    });
    expect(wf.status).toBe(201);
    const { id } = (await wf.json()) as { id: string };
    agent.start();
    const run = await waitFor(
      "a workflow run",
      async () => {
        const r = (await (await srv.api(`/api/v1/workflows/${id}/runs`)).json()) as {
          items: { results: { ok: boolean; commandId?: string }[] }[];
        };
        return r.items[0];
      },
      30_000,
    );
    expect(run.results[0]?.ok).toBe(true);
    const commandId = run.results[0]?.commandId;
    const done = await waitFor(
      "the cleanup script's result",
      async () => {
        const c = (await (await srv.api(`/api/v1/commands/${commandId}`)).json()) as { status: string; stdout: string };
        return c.status === "succeeded" ? c : undefined;
      },
      30_000,
    );
    expect(done.stdout).toStartWith("cleaned-up on ");
  });

  test("bad workflows are 422", async () => {
    for (const body of [
      { name: "x", trigger: { event: "sunrise" }, actions: [{ type: "notify", channelIds: [] }] },
      { name: "x", trigger: { event: "alert.firing" }, actions: [] },
      { name: "x", trigger: { event: "alert.firing" }, actions: [{ type: "format_disk" }] },
    ]) {
      expect((await srv.api("/api/v1/workflows", { body })).status).toBe(422);
    }
  });
});
