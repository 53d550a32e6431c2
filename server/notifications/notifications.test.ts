import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SMTPServer } from "smtp-server";
import { sendBeacon } from "../../agent/transport/beacon.ts";
import { facts, rawToken, sample } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/** A local webhook receiver that fails its first `failures` requests with 500 (-1: always). */
function webhookSink(failures: number) {
  const received: { body: Record<string, unknown>; signature: string | null; status: number }[] = [];
  let calls = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      calls++;
      const status = failures < 0 || calls <= failures ? 500 : 200;
      received.push({ body: (await req.json()) as Record<string, unknown>, signature: req.headers.get("x-sentpulse-signature"), status });
      return new Response(status === 200 ? "ok" : "nope", { status });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    received,
    ok: () => received.filter((r) => r.status === 200),
    stop: () => server.stop(true),
  };
}

/** A local SMTP server that keeps every message it accepts. */
async function smtpSink() {
  const mails: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, _session, callback) {
      let text = "";
      stream.on("data", (c: Buffer) => (text += c.toString()));
      stream.on("end", () => {
        mails.push(text);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return { port, mails, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let srv: TestServer;
let seq = 0;
/** Fixed, so a restarted server opens the channel secrets the first one sealed. */
const KEY = Buffer.alloc(32, 7).toString("base64");
beforeAll(async () => {
  srv = await startTestServer({ notifyRetryBaseS: 1, secretKey: KEY });
}, 120_000);
afterAll(() => srv.stop());

async function device(tag: string) {
  const [site] = await srv.sql<{ id: string; org: string }[]>`select id, organization_id as org from sites order by created_at limit 1`;
  const token = await rawToken(srv.sql, site!.org, site!.id);
  const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, agentVersion: "1", facts: facts(), tags: [tag] }),
  });
  return (await res.json()) as { deviceId: string; secret: string };
}
async function cpu(d: { deviceId: string; secret: string }, points: [number, number][]) {
  await sendBeacon(
    srv.url,
    d.deviceId,
    d.secret,
    "1",
    points.map(([v, ago]) => ({ seq: ++seq, samples: [sample(new Date(Date.now() - ago * 1000), v)] })),
  );
  await srv.server.services.rules.idle();
  await srv.server.services.bus.settled();
}
async function channel(body: Record<string, unknown>): Promise<string> {
  const res = await srv.api("/api/v1/notification-channels", { body });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}
async function rule(tag: string, channelIds: string[]) {
  const res = await srv.api("/api/v1/alert-rules", {
    body: {
      name: `CPU ${tag}`,
      metric: "cpu_percent",
      operator: ">",
      threshold: 90,
      durationSeconds: 2,
      severity: "critical",
      cooldownSeconds: 3600,
      scope: { type: "tag", tag },
      channelIds,
    },
  });
  expect(res.status).toBe(201);
}

describe("alert notifications", () => {
  test("a firing alert reaches a webhook (signed) and an SMTP server; its resolution too; the cooldown sends nothing more", async () => {
    const hook = webhookSink(0);
    const smtp = await smtpSink();
    const hookId = await channel({ name: "hook", type: "webhook", config: { url: hook.url, secret: "s3cret" } });
    const mailId = await channel({
      name: "mail",
      type: "email",
      config: { host: "127.0.0.1", port: smtp.port, from: "rmm@example.com", to: ["oncall@example.com"] },
    });
    await rule("env=notify", [hookId, mailId]);
    const d = await device("env=notify");
    await cpu(d, [
      [95, 60],
      [95, 59],
      [96, 57],
    ]);
    await waitFor("firing webhook", async () => hook.ok().length === 1, 15_000);
    const first = hook.received[0]!;
    expect((first.body.alert as { state: string }).state).toBe("firing");
    const expected = `sha256=${new Bun.CryptoHasher("sha256", "s3cret").update(JSON.stringify(first.body)).digest("hex")}`;
    expect(first.signature).toBe(expected);
    await waitFor("firing mail", async () => smtp.mails.length === 1, 15_000);
    expect(smtp.mails[0]).toContain("CPU env=notify");
    await cpu(d, [[10, 55]]);
    await waitFor("resolution on both", async () => hook.ok().length === 2 && smtp.mails.length === 2, 15_000);
    expect((hook.received[1]!.body.alert as { state: string }).state).toBe("resolved");
    await cpu(d, [
      [95, 50],
      [95, 45],
      [95, 40],
    ]);
    await Bun.sleep(1500);
    expect(hook.ok().length).toBe(2);
    hook.stop();
    await smtp.stop();
  });

  test("a receiver that fails twice then succeeds gets exactly one successful delivery; one that always fails ends as a dead letter", async () => {
    const flaky = webhookSink(2);
    const broken = webhookSink(-1);
    await rule("env=flaky", [
      await channel({ name: "flaky", type: "webhook", config: { url: flaky.url } }),
      await channel({ name: "broken", type: "webhook", config: { url: broken.url } }),
    ]);
    const d = await device("env=flaky");
    await cpu(d, [
      [95, 60],
      [95, 57],
    ]);
    await waitFor("flaky delivered", async () => flaky.ok().length === 1, 20_000);
    expect(flaky.received.length).toBe(3);
    const dead = await waitFor(
      "dead letter",
      async () => {
        const r = (await (await srv.api("/api/v1/notification-dead-letters")).json()) as {
          items: { id: string; attempts: number; lastError: string }[];
        };
        return r.items.length > 0 ? r.items : undefined;
      },
      40_000,
    );
    expect(dead[0]).toMatchObject({ attempts: 5 });
    expect(dead[0]?.lastError).toContain("HTTP 500");
    expect(broken.received.length).toBe(5);
    await Bun.sleep(1500);
    expect(flaky.ok().length).toBe(1);
    flaky.stop();
    broken.stop();
  });

  test("a server restart in the middle of retries loses nothing", async () => {
    const later = webhookSink(1);
    await rule("env=restart-notify", [await channel({ name: "later", type: "webhook", config: { url: later.url } })]);
    const d = await device("env=restart-notify");
    await cpu(d, [
      [95, 60],
      [95, 57],
    ]);
    await waitFor("first attempt failed", async () => later.received.length === 1, 10_000);
    const { port, databaseUrl } = srv;
    await srv.stop();
    srv = await startTestServer({ port, notifyRetryBaseS: 1, secretKey: KEY }, databaseUrl);
    await waitFor("delivered after the restart", async () => later.ok().length === 1, 20_000);
    later.stop();
  });

  test("a test-send reports the outcome; bad configs are 422; configs never come back", async () => {
    const hook = webhookSink(0);
    const id = await channel({ name: "t", type: "webhook", config: { url: hook.url, secret: "do-not-show" } });
    expect(await (await srv.api(`/api/v1/notification-channels/${id}/test`, { body: {} })).json()).toEqual({ ok: true });
    const list = await (await srv.api("/api/v1/notification-channels")).text();
    expect(list).not.toContain("do-not-show");
    const [row] = await srv.sql`select config_encrypted from notification_channels where id = ${id}`;
    expect(String(row?.config_encrypted)).not.toContain("do-not-show");
    for (const body of [
      { name: "x", type: "webhook", config: { url: "not a url" } },
      { name: "x", type: "pager", config: {} },
      { name: "x", type: "email", config: { host: "h" } },
    ]) {
      expect((await srv.api("/api/v1/notification-channels", { body })).status).toBe(422);
    }
    hook.stop();
  });
});
