import type { ChannelType } from "./store.ts";

export interface Message {
  subject: string;
  text: string;
  alert?: Record<string, unknown>;
}

/**
 * The HTTP request that delivers a message on a channel of an HTTP kind (every kind but email).
 * Webhooks carry `x-sentpulse-signature: sha256=<hex HMAC of the body>` when a secret is set.
 */
export function httpRequestFor(
  type: Exclude<ChannelType, "email">,
  config: Record<string, unknown>,
  m: Message,
): { url: string; init: RequestInit } {
  const json = (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    return { url, init: { method: "POST", headers: { "content-type": "application/json", ...headers }, body: text } };
  };
  const str = (k: string) => {
    const v = config[k];
    if (typeof v !== "string" || v === "") throw new Error(`channel config needs ${k}`);
    return v;
  };
  switch (type) {
    case "webhook": {
      const body = JSON.stringify({ subject: m.subject, text: m.text, alert: m.alert ?? null, sentAt: new Date().toISOString() });
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (typeof config.secret === "string" && config.secret)
        headers["x-sentpulse-signature"] = `sha256=${new Bun.CryptoHasher("sha256", config.secret).update(body).digest("hex")}`;
      return { url: str("url"), init: { method: "POST", headers, body } };
    }
    case "slack":
      return json(str("webhookUrl"), { text: `*${m.subject}*\n${m.text}` });
    case "teams":
      return json(str("webhookUrl"), { text: `**${m.subject}**\n\n${m.text}` });
    case "discord":
      return json(str("webhookUrl"), { content: `**${m.subject}**\n${m.text}`.slice(0, 2000) });
    case "telegram": {
      const base = typeof config.apiBase === "string" && config.apiBase ? config.apiBase : "https://api.telegram.org";
      return json(`${base}/bot${str("botToken")}/sendMessage`, { chat_id: str("chatId"), text: `${m.subject}\n${m.text}` });
    }
    case "sms": {
      const headers: Record<string, string> = typeof config.authorization === "string" ? { authorization: config.authorization } : {};
      return json(str("url"), { to: str("to"), message: `${m.subject}: ${m.text}`.slice(0, 600) }, headers);
    }
  }
}
