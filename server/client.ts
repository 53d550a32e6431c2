import { treaty } from "@elysiajs/eden";
import type { App } from "./app.ts";

export type { App } from "./app.ts";

/**
 * The typed SENTpulse client: `createClient("https://rmm.example.com", { apiKey })`, then
 * `await client.api.v1.devices.get({ query: { status: "offline" } })` returns `{ data, error }`
 * typed from the server's own routes.
 */
export function createClient(baseUrl: string, opts: { apiKey?: string; headers?: Record<string, string> } = {}) {
  return treaty<App>(baseUrl, {
    headers: {
      ...opts.headers,
      ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
    },
  });
}
