import { describe, expect, test } from "bun:test";
import { SecretBox } from "./crypto.ts";
import { httpRequestFor } from "./senders.ts";
import { backoffSeconds } from "./service.ts";

const m = { subject: "[critical] CPU high on web-1", text: "CPU 97 > 90 for 300 s" };
const body = (r: { init: RequestInit }) => JSON.parse(String(r.init.body));

describe("channel requests", () => {
  test("slack, teams, discord, telegram and sms get the shapes their APIs take", () => {
    expect(body(httpRequestFor("slack", { webhookUrl: "https://hooks.slack.test/x" }, m))).toEqual({ text: `*${m.subject}*\n${m.text}` });
    expect(body(httpRequestFor("teams", { webhookUrl: "https://teams.test/x" }, m)).text).toContain(m.text);
    expect(body(httpRequestFor("discord", { webhookUrl: "https://discord.test/x" }, m)).content).toContain(m.subject);
    const tg = httpRequestFor("telegram", { botToken: "123:abc", chatId: "42" }, m);
    expect(tg.url).toBe("https://api.telegram.org/bot123:abc/sendMessage");
    expect(body(tg)).toMatchObject({ chat_id: "42" });
    const sms = httpRequestFor("sms", { url: "https://sms.test/send", to: "+15550100", authorization: "Bearer k" }, m);
    expect(body(sms)).toMatchObject({ to: "+15550100" });
    expect((sms.init.headers as Record<string, string>).authorization).toBe("Bearer k");
  });

  test("a webhook without a secret is unsigned; missing config fields throw", () => {
    const r = httpRequestFor("webhook", { url: "https://example.test/h" }, m);
    expect((r.init.headers as Record<string, string>)["x-sentpulse-signature"]).toBeUndefined();
    expect(() => httpRequestFor("slack", {}, m)).toThrow(/webhookUrl/);
  });
});

describe("secrets and retries", () => {
  test("sealed configs open with the same key only", () => {
    const a = new SecretBox(Buffer.alloc(32, 1));
    const sealed = a.seal('{"secret":"x"}');
    expect(sealed).not.toContain("secret");
    expect(a.open(sealed)).toBe('{"secret":"x"}');
    expect(() => new SecretBox(Buffer.alloc(32, 2)).open(sealed)).toThrow();
    expect(() => a.open(`${sealed.slice(0, -2)}AA`)).toThrow();
  });

  test("backoff doubles and is capped", () => {
    expect([1, 2, 3, 4].map((n) => backoffSeconds(n))).toEqual([5, 10, 20, 40]);
    expect(backoffSeconds(30)).toBe(3600);
  });
});
