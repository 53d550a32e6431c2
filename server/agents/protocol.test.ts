import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BeaconError, sendBeacon } from "../../agent/transport/beacon.ts";
import { PROTOCOL_VERSION, type ServerFrame } from "../protocol/frames.ts";
import { SIGNATURE_HEADERS, signBody, signingKey, socketChallenge } from "../protocol/signing.ts";
import { command, enrollDevice, facts, otherOrganization, sample } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

let srv: TestServer;
let device: { deviceId: string; secret: string };

/** A device enrolled through the API, with no agent process behind it. */
const newDevice = () => enrollDevice(srv, `host-${crypto.randomUUID().slice(0, 8)}`);

beforeAll(async () => {
  srv = await startTestServer();
  device = await newDevice();
}, 120_000);
afterAll(() => srv.stop());

const storedRows = async (deviceId: string) =>
  (await srv.sql<{ n: number }[]>`select count(*)::int as n from device_telemetry where device_id = ${deviceId}`)[0]?.n ?? 0;

function rawBeacon(deviceId: string, key: Buffer, body: string, ts = Date.now(), sig?: string) {
  return fetch(`${srv.url}/api/agent/v1/beacon`, {
    method: "POST",
    headers: {
      "content-type": "text/plain",
      [SIGNATURE_HEADERS.device]: deviceId,
      [SIGNATURE_HEADERS.timestamp]: String(ts),
      [SIGNATURE_HEADERS.signature]: sig ?? signBody(key, ts, body),
    },
    body,
  });
}

describe("beacon", () => {
  test("a signed beacon stores its batches once and answers with settings and the acked seq", async () => {
    const batches = [
      { seq: 1, samples: [sample()] },
      { seq: 2, samples: [sample(), sample()] },
    ];
    const res = await sendBeacon(srv.url, device.deviceId, device.secret, "1.0.0", batches);
    expect(res.ackedSeq).toBe(2);
    expect(res.settings.beaconIntervalS).toBeGreaterThan(0);
    expect(await storedRows(device.deviceId)).toBe(3);
    // the same batches again (a lost response): acknowledged, not stored twice
    const again = await sendBeacon(srv.url, device.deviceId, device.secret, "1.0.0", batches);
    expect(again.ackedSeq).toBe(2);
    expect(await storedRows(device.deviceId)).toBe(3);
  });

  test("a bad signature, a wrong secret, an unknown device and a stale timestamp are 401 with codes", async () => {
    const body = JSON.stringify({ v: 1, agentVersion: "1", batches: [] });
    const key = signingKey(device.secret);
    const cases: [Promise<Response>, string][] = [
      [rawBeacon(device.deviceId, key, body, Date.now(), "0".repeat(64)), "BAD_SIGNATURE"],
      [rawBeacon(device.deviceId, signingKey("wrong secret"), body), "BAD_SIGNATURE"],
      [rawBeacon(Bun.randomUUIDv7(), key, body), "DEVICE_UNKNOWN"],
      [rawBeacon(device.deviceId, key, body, Date.now() - 6 * 60_000), "STALE_TIMESTAMP"],
      [rawBeacon(device.deviceId, key, body, Date.now() + 6 * 60_000), "STALE_TIMESTAMP"],
      [rawBeacon("not-a-uuid", key, body), "BAD_SIGNATURE"],
    ];
    for (const [res, code] of cases) {
      const r = await res;
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  test("a body changed after signing is refused", async () => {
    const key = signingKey(device.secret);
    const ts = Date.now();
    const signed = JSON.stringify({ v: 1, agentVersion: "1", batches: [] });
    const res = await rawBeacon(device.deviceId, key, signed.replace('"1"', '"2"'), ts, signBody(key, ts, signed));
    expect(res.status).toBe(401);
  });

  test("a replayed beacon is 409 and stores nothing", async () => {
    const key = signingKey(device.secret);
    const ts = Date.now();
    const body = JSON.stringify({ v: 1, agentVersion: "1", batches: [{ seq: 50, samples: [sample()] }] });
    expect((await rawBeacon(device.deviceId, key, body, ts)).status).toBe(200);
    const before = await storedRows(device.deviceId);
    const replay = await rawBeacon(device.deviceId, key, body, ts);
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("REPLAYED");
    expect(await storedRows(device.deviceId)).toBe(before);
  });

  test("signed but unparsable bodies are 400, invalid ones 422, and change nothing", async () => {
    const key = signingKey(device.secret);
    const before = await storedRows(device.deviceId);
    for (const [status, body] of [
      [400, "not json"],
      [422, JSON.stringify({ v: 1, agentVersion: "1", batches: [{ seq: 60, samples: [{ ...sample(), cpuPercent: 400 }] }] })],
      [422, JSON.stringify({ v: 1, agentVersion: "1", batches: [{ seq: "61", samples: [sample()] }] })],
      [422, JSON.stringify({ v: 1, agentVersion: "1", batches: [{ seq: 62, samples: [] }] })],
      [422, JSON.stringify({ v: 2, agentVersion: "1", batches: [] })],
      [
        422,
        JSON.stringify({ v: 1, agentVersion: "1", batches: Array.from({ length: 21 }, (_, i) => ({ seq: 100 + i, samples: [sample()] })) }),
      ],
    ] as const) {
      const res = await rawBeacon(device.deviceId, key, body);
      expect(res.status).toBe(status);
      await Bun.sleep(2); // distinct timestamps: each is a new beacon, not a replay
    }
    expect(await storedRows(device.deviceId)).toBe(before);
  });

  test("an oversized beacon is 413", async () => {
    const key = signingKey(device.secret);
    const res = await rawBeacon(device.deviceId, key, "x".repeat(1_100_000));
    expect(res.status).toBe(413);
  });

  test("the agent's beacon client surfaces refusals as BeaconError", async () => {
    const err = await sendBeacon(srv.url, device.deviceId, "not the secret", "1", []).catch((e) => e);
    expect(err).toBeInstanceOf(BeaconError);
    expect((err as BeaconError).code).toBe("BAD_SIGNATURE");
  });
});

/** Opens the agent socket with a correct (or tampered) handshake and collects frames. */
function openSocket(d: { deviceId: string; secret: string }, tamper: Partial<Record<"ts" | "sig" | "nonce" | "v", string>> = {}) {
  const ts = Date.now();
  const nonce = tamper.nonce ?? Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
  const sig = tamper.sig ?? signBody(signingKey(d.secret), ts, socketChallenge(d.deviceId, nonce));
  const q = new URLSearchParams({ device: d.deviceId, ts: tamper.ts ?? String(ts), nonce, sig, ...(tamper.v ? { v: tamper.v } : {}) });
  const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/agent/v1/ws?${q}`);
  const frames: ServerFrame[] = [];
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true));
    ws.addEventListener("close", () => resolve(false));
  });
  ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
  return { ws, frames, closed, opened, nonce };
}

describe("agent socket", () => {
  test("handshake, welcome, telemetry acked after commit, duplicates acked but not stored", async () => {
    const d = await newDevice();
    const s = openSocket(d);
    expect(await s.opened).toBe(true);
    const welcome = await waitFor("welcome", async () => s.frames.find((f) => f.type === "welcome"));
    expect(welcome.type === "welcome" && welcome.data.deviceId).toBe(d.deviceId);
    s.ws.send(JSON.stringify({ v: 1, id: "h1", type: "hello", data: { agentVersion: "1.2.3", facts: facts("renamed-host") } }));
    s.ws.send(JSON.stringify({ v: 1, id: "t1", type: "telemetry", data: { seq: 1, samples: [sample()] } }));
    s.ws.send(JSON.stringify({ v: 1, id: "t2", type: "telemetry", data: { seq: 1, samples: [sample()] } }));
    const acks = await waitFor("two acks", async () => {
      const a = s.frames.filter((f) => f.type === "ack");
      return a.length >= 2 ? a : undefined;
    });
    expect(acks.map((a) => a.type === "ack" && a.data.stored)).toEqual([true, false]);
    expect(await storedRows(d.deviceId)).toBe(1);
    const [row] = await srv.sql`select hostname, agent_version, status from devices where id = ${d.deviceId}`;
    expect(row?.hostname).toBe("renamed-host");
    expect(row?.agent_version).toBe("1.2.3");
    await waitFor("online", async () => (await srv.sql`select status from devices where id = ${d.deviceId}`)[0]?.status === "online");
    s.ws.close();
  });

  test("bad frames get an error frame naming the problem; the socket and other data survive", async () => {
    const d = await newDevice();
    const s = openSocket(d);
    expect(await s.opened).toBe(true);
    for (const bad of [
      "not json",
      JSON.stringify({ v: 1, id: "x", type: "explode", data: {} }),
      JSON.stringify({ v: 1, id: "x", type: "telemetry", data: { seq: -1, samples: [sample()] } }),
      JSON.stringify({ v: 1, id: "x", type: "telemetry", data: { seq: 5, samples: [{ ...sample(), time: "yesterday" }] } }),
      JSON.stringify({ v: 1, type: "telemetry", data: { seq: 5, samples: [sample()] } }),
      // numbers beyond their columns (a real load, a bigint byte count, an integer process count, the
      // batch's bigint sequence) would fail the whole flush's COPY, other devices' batches with it
      JSON.stringify({ v: 1, id: "x", type: "telemetry", data: { seq: 5, samples: [{ ...sample(), load: [1e39, 0, 0] }] } }),
      JSON.stringify({ v: 1, id: "x", type: "telemetry", data: { seq: 5, samples: [{ ...sample(), memoryTotalBytes: 1e20 }] } }),
      JSON.stringify({ v: 1, id: "x", type: "telemetry", data: { seq: 5, samples: [{ ...sample(), processCount: 3e9 }] } }),
      JSON.stringify({ v: 1, id: "x", type: "telemetry", data: { seq: 1e300, samples: [sample()] } }),
    ]) {
      s.ws.send(bad);
    }
    const errors = await waitFor("9 errors", async () => {
      const e = s.frames.filter((f) => f.type === "error");
      return e.length >= 9 ? e : undefined;
    });
    expect(errors.every((e) => e.type === "error" && e.data.code === "BAD_FRAME")).toBe(true);
    s.ws.send(JSON.stringify({ v: 1, id: "ok", type: "telemetry", data: { seq: 9, samples: [sample()] } }));
    await waitFor("ack after bad frames", async () => s.frames.some((f) => f.type === "ack"));
    expect(await storedRows(d.deviceId)).toBe(1);
    s.ws.close();
  });

  test("a Windows exit code reported unsigned (0xC0000005) finishes the command, stored as Windows tools show it", async () => {
    const d = await newDevice();
    const [org] = await srv.sql<{ id: string }[]>`select organization_id as id from devices where id = ${d.deviceId}`;
    const commandId = await command(srv.sql, org!.id, d.deviceId, "running");
    const s = openSocket(d);
    expect(await s.opened).toBe(true);
    s.ws.send(JSON.stringify({ v: 1, id: "c1", type: "command_update", data: { commandId, status: "failed", exitCode: 3_221_225_477 } }));
    const done = await waitFor("the command finished", async () => {
      const [row] = await srv.sql<{ status: string; exitCode: number }[]>`
        select status, exit_code as "exitCode" from commands where id = ${commandId}`;
      return row?.status === "failed" ? row : undefined;
    });
    expect(done.exitCode).toBe(-1_073_741_819);
    s.ws.send(JSON.stringify({ v: 1, id: "c2", type: "command_update", data: { commandId, status: "failed", exitCode: 2 ** 40 } }));
    await waitFor("a bad frame", async () => s.frames.some((f) => f.type === "error" && f.data.code === "BAD_FRAME"));
    s.ws.close();
  });

  test("a frame over 1 MiB closes the socket with 1009; the server keeps serving", async () => {
    const d = await newDevice();
    const s = openSocket(d);
    expect(await s.opened).toBe(true);
    s.ws.send("x".repeat(1_100_000));
    expect(await s.closed).toBe(1009);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  test("too many bad frames close the socket with 1008", async () => {
    const d = await newDevice();
    const s = openSocket(d);
    expect(await s.opened).toBe(true);
    for (let i = 0; i < 12; i++) s.ws.send("{}");
    expect(await s.closed).toBe(1008);
  });

  test("bad handshakes are refused before the upgrade", async () => {
    const d = await newDevice();
    const other = await otherOrganization(srv.sql);
    const refusals = [
      openSocket(d, { sig: "0".repeat(64) }),
      openSocket({ deviceId: d.deviceId, secret: "wrong" }),
      openSocket({ deviceId: Bun.randomUUIDv7(), secret: d.secret }),
      openSocket(d, { ts: String(Date.now() - 10 * 60_000) }),
      openSocket(d, { ts: "soon" }),
      openSocket({ deviceId: other.deviceId, secret: d.secret }),
    ];
    for (const r of refusals) expect(await r.opened).toBe(false);
    const direct = await fetch(`${srv.url}/api/agent/v1/ws?device=${d.deviceId}&ts=1&nonce=${"a".repeat(16)}&sig=${"0".repeat(64)}`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    expect(direct.status).toBe(401);
  });

  test("the handshake's protocol version: 1 or absent opens; another is 426 PROTOCOL_UNSUPPORTED before the upgrade", async () => {
    const d = await newDevice();
    const current = openSocket(d, { v: String(PROTOCOL_VERSION) });
    expect(await current.opened).toBe(true);
    current.ws.close();
    const unsupported = openSocket(d, { v: "2" });
    expect(await unsupported.opened).toBe(false);
    const upgrade = {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    };
    for (const v of ["2", "0", "one"]) {
      const ts = Date.now();
      const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
      const sig = signBody(signingKey(d.secret), ts, socketChallenge(d.deviceId, nonce));
      const q = new URLSearchParams({ device: d.deviceId, ts: String(ts), nonce, sig, v });
      const res = await fetch(`${srv.url}/api/agent/v1/ws?${q}`, { headers: upgrade });
      expect(res.status).toBe(426);
      const body = (await res.json()) as { error: { code: string; details: { supported: number[] } } };
      expect(body.error.code).toBe("PROTOCOL_UNSUPPORTED");
      expect(body.error.details.supported).toEqual([PROTOCOL_VERSION]);
    }
  });

  test("command frames carry the command's expiry as their deadline (socket and beacon)", async () => {
    const d = await newDevice();
    const s = openSocket(d);
    expect(await s.opened).toBe(true);
    await waitFor("welcome", async () => s.frames.some((f) => f.type === "welcome"));
    const res = await srv.api(`/api/v1/devices/${d.deviceId}/commands`, { body: { type: "reboot", expiresInMinutes: 5 } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const command = await waitFor("command frame", async () => s.frames.find((f) => f.type === "command"));
    const [row] = await srv.sql<{ expiresAt: Date }[]>`select expires_at as "expiresAt" from commands where id = ${id}`;
    expect(command.type === "command" && command.data).toMatchObject({ commandId: id, deadline: row!.expiresAt.getTime() });
    s.ws.close();
    await waitFor("socket gone", async () => !srv.server.services.agents.get(d.deviceId));
    await srv.sql`update commands set status = 'queued' where id = ${id}`;
    const beacon = await sendBeacon(srv.url, d.deviceId, d.secret, "1.0.0", []);
    expect(beacon.commands).toEqual([{ commandId: id, spec: { kind: "reboot", delaySeconds: 0 }, deadline: row!.expiresAt.getTime() }]);
  });

  test("a replayed handshake (same nonce) is refused", async () => {
    const d = await newDevice();
    const first = openSocket(d, { nonce: "replayed-nonce-000001" });
    expect(await first.opened).toBe(true);
    first.ws.close();
    const again = openSocket(d, { nonce: "replayed-nonce-000001" });
    expect(await again.opened).toBe(false);
  });
});
