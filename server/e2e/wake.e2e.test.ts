import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { createToken, facts } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * Wake-on-LAN through a neighbour, on a network this test builds: a bridge with 10.77.x.1/24 in this
 * namespace (where the real agent runs, so its facts carry the bridge's subnet) and a veth into a
 * network namespace of its own holding the "sleeping" machine's MAC and 10.77.x.2/24, where a UDP
 * listener on port 9 records what arrives. The dashboard's wake goes to the agent, which sends the
 * magic packet to the subnet's broadcast address; nothing leaves the machine.
 */
const tag = crypto.randomUUID().slice(0, 4);
const net = 100 + Math.floor(Math.random() * 100);
const BRIDGE = `spw${tag}br`;
const NS = `spw${tag}ns`;
const VETH = [`spw${tag}a`, `spw${tag}b`];
const MAC = "02:53:50:00:00:02";
const sh = (...argv: string[]) => {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
};

let srv: TestServer;
let agent: EnrolledAgent;
let listener: Subprocess<"ignore", "pipe", "pipe">;
let received = "";
let sleeper: string;

beforeAll(async () => {
  sh("ip", "link", "add", BRIDGE, "type", "bridge");
  sh("ip", "addr", "add", `10.77.${net}.1/24`, "dev", BRIDGE);
  sh("ip", "link", "set", BRIDGE, "up");
  sh("ip", "netns", "add", NS);
  sh("ip", "link", "add", VETH[0]!, "type", "veth", "peer", "name", VETH[1]!);
  sh("ip", "link", "set", VETH[0]!, "master", BRIDGE, "up");
  sh("ip", "link", "set", VETH[1]!, "netns", NS);
  sh("ip", "netns", "exec", NS, "ip", "link", "set", VETH[1]!, "address", MAC);
  sh("ip", "netns", "exec", NS, "ip", "addr", "add", `10.77.${net}.2/24`, "dev", VETH[1]!);
  sh("ip", "netns", "exec", NS, "ip", "link", "set", VETH[1]!, "up");
  listener = Bun.spawn(
    [
      "ip",
      "netns",
      "exec",
      NS,
      process.execPath,
      "-e",
      `const s = require("node:dgram").createSocket("udp4");
       s.on("message", (m, r) => console.log(r.address + " " + m.toString("hex")));
       s.bind(9, "0.0.0.0", () => console.log("listening"));`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  void (async () => {
    for await (const chunk of listener.stdout) received += new TextDecoder().decode(chunk);
  })();
  await waitFor("listener", async () => received.includes("listening"), 10_000);

  srv = await startTestServer({ telemetryIntervalS: 2 });
  agent = await enrollRealAgent(srv);
  agent.start();
  await waitFor(
    "online",
    async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
    30_000,
  );
  // the machine to wake: enrolled once (its agent reported this NIC), now asleep
  const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      token: await createToken(srv),
      agentVersion: "1.0.0",
      facts: { ...facts("sleeper"), nics: [{ name: "eth0", mac: MAC, addresses: [`10.77.${net}.2`], cidrs: [`10.77.${net}.2/24`] }] },
      tags: [],
    }),
  });
  sleeper = ((await res.json()) as { deviceId: string }).deviceId;
}, 120_000);

afterAll(async () => {
  listener?.kill();
  await agent?.stop();
  await srv?.stop();
  Bun.spawnSync(["ip", "netns", "del", NS]);
  Bun.spawnSync(["ip", "link", "del", BRIDGE]);
  Bun.spawnSync(["ip", "link", "del", VETH[0]!]);
});

describe("Wake-on-LAN through a neighbour agent", () => {
  test("the listener in the other namespace receives a valid magic packet for its own MAC; the wake is audited with the relay", async () => {
    const res = await srv.api(`/api/v1/devices/${sleeper}/wake`, { method: "POST", body: {} });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      relayDeviceId: agent.deviceId,
      relayHostname: expect.any(String),
      macs: [MAC],
      broadcasts: [`10.77.${net}.255`],
      sent: 1,
    });
    const line = await waitFor("magic packet", async () => received.split("\n").find((l) => l.startsWith(`10.77.${net}.1 `)), 5000);
    const packet = Buffer.from(line.split(" ")[1] ?? "", "hex");
    expect(packet).toHaveLength(102);
    expect(packet.subarray(0, 6).toString("hex")).toBe("ffffffffffff");
    expect(packet.subarray(6).toString("hex")).toBe(MAC.replaceAll(":", "").repeat(16));
    const [a] = await srv.sql<{ actorName: string; details: Record<string, unknown> }[]>`
      select actor_name as "actorName", details from audit_log where action = 'device.wake' and target_id = ${sleeper}`;
    expect(a).toMatchObject({ actorName: "admin@example.com", details: { relayDeviceId: agent.deviceId, outcome: "ok", sent: 1 } });
  });

  test("no neighbour in its subnet, an online device, or no MAC → 409 with a code, nothing sent", async () => {
    const before = received;
    const far = await fetch(`${srv.url}/api/agent/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        token: await createToken(srv),
        agentVersion: "1.0.0",
        facts: {
          ...facts("far-away"),
          nics: [{ name: "eth0", mac: "02:53:50:00:00:09", addresses: ["198.51.100.9"], cidrs: ["198.51.100.9/24"] }],
        },
        tags: [],
      }),
    });
    const farId = ((await far.json()) as { deviceId: string }).deviceId;
    const noNeighbour = await srv.api(`/api/v1/devices/${farId}/wake`, { method: "POST", body: {} });
    expect(noNeighbour.status).toBe(409);
    expect(((await noNeighbour.json()) as { error: { code: string } }).error.code).toBe("NO_NEIGHBOUR");
    const online = await srv.api(`/api/v1/devices/${agent.deviceId}/wake`, { method: "POST", body: {} });
    expect(((await online.json()) as { error: { code: string } }).error.code).toBe("ALREADY_ONLINE");
    const bare = await fetch(`${srv.url}/api/agent/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: await createToken(srv), agentVersion: "1.0.0", facts: { ...facts("no-nic"), nics: [] }, tags: [] }),
    });
    const bareId = ((await bare.json()) as { deviceId: string }).deviceId;
    const noMac = await srv.api(`/api/v1/devices/${bareId}/wake`, { method: "POST", body: {} });
    expect(((await noMac.json()) as { error: { code: string } }).error.code).toBe("NO_WAKE_ADDRESS");
    await Bun.sleep(300);
    expect(received).toBe(before);
  });

  test("bulk: listed devices and a whole site, each woken through its neighbour or told why not; another site → 404", async () => {
    const packets = () => received.split("\n").filter((l) => l.startsWith(`10.77.${net}.1 `)).length;
    const before = packets();
    const [{ id: farId } = { id: "" }] = await srv.sql<{ id: string }[]>`select id from devices where hostname = 'far-away'`;
    const listed = await srv.api("/api/v1/wake", { body: { deviceIds: [sleeper, farId, agent.deviceId] } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([
      { deviceId: sleeper, ok: true, relayDeviceId: agent.deviceId, sent: 1 },
      { deviceId: farId, ok: false, code: "NO_NEIGHBOUR" },
      { deviceId: agent.deviceId, ok: false, code: "ALREADY_ONLINE" },
    ]);
    await waitFor("second packet", async () => packets() === before + 1, 5000);
    const [{ siteId } = { siteId: "" }] = await srv.sql<
      { siteId: string }[]
    >`select site_id as "siteId" from devices where id = ${sleeper}`;
    const site = (await (await srv.api("/api/v1/wake", { body: { siteId } })).json()) as { items: { deviceId: string; ok: boolean }[] };
    expect(site.items.find((i) => i.deviceId === sleeper)?.ok).toBe(true);
    expect(site.items.filter((i) => i.ok)).toHaveLength(1);
    await waitFor("third packet", async () => packets() === before + 2, 5000);
    expect((await srv.api("/api/v1/wake", { body: { siteId: crypto.randomUUID() } })).status).toBe(404);
    expect((await srv.api("/api/v1/wake", { body: {} })).status).toBe(422);
    expect((await srv.api("/api/v1/wake", { body: { deviceIds: ["x; reboot"] } })).status).toBe(422);
  });

  test("each wake is recorded with its relay and outcome; when the device's agent connects, the wake is marked answered", async () => {
    // a second real agent, enrolled but not running: asleep, with the MAC and subnet of the namespace's interface
    const late = await enrollRealAgent(srv);
    await srv.sql`update devices set status = 'offline', nics = ${srv.sql.json([
      { name: "eth0", mac: MAC, addresses: [`10.77.${net}.2`], cidrs: [`10.77.${net}.2/24`] },
    ] as never)} where id = ${late.deviceId}`;
    const res = await srv.api(`/api/v1/devices/${late.deviceId}/wake`, { method: "POST", body: {} });
    expect(res.status).toBe(200);
    type Wakes = {
      items: { relayDeviceId: string | null; relayHostname: string | null; actorName: string; outcome: string; onlineAt: string | null }[];
    };
    const before = (await (await srv.api(`/api/v1/devices/${late.deviceId}/wakes`)).json()) as Wakes;
    expect(before.items).toEqual([
      expect.objectContaining({ relayDeviceId: agent.deviceId, actorName: "admin@example.com", outcome: "sent", onlineAt: null }),
    ]);
    late.start();
    try {
      const woken = await waitFor(
        "marked online",
        async () => {
          const w = (await (await srv.api(`/api/v1/devices/${late.deviceId}/wakes`)).json()) as Wakes;
          return w.items[0]?.onlineAt ? w : undefined;
        },
        30_000,
      );
      expect(new Date(woken.items[0]?.onlineAt ?? 0).getTime()).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await late.stop();
    }
    const far = (await srv.sql<{ id: string }[]>`select id from devices where hostname = 'far-away'`)[0]?.id;
    const refused = (await (await srv.api(`/api/v1/devices/${far}/wakes`)).json()) as Wakes;
    expect(refused.items[0]).toMatchObject({ relayDeviceId: null, outcome: "NO_NEIGHBOUR", onlineAt: null });
  });
});
