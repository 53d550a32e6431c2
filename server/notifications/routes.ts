import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { deliver } from "./service.ts";
import { type ChannelRow, deleteChannel, getChannel, insertChannel, listChannels, listDead, retryDead } from "./store.ts";

const url = "string.url <= 2048";
const Configs = {
  webhook: type({ url, "secret?": "string <= 256" }),
  slack: type({ webhookUrl: url }),
  teams: type({ webhookUrl: url }),
  discord: type({ webhookUrl: url }),
  telegram: type({ botToken: "0 < string <= 256", chatId: "0 < string <= 64", "apiBase?": url }),
  sms: type({ url, to: "0 < string <= 32", "authorization?": "string <= 512" }),
  email: type({
    host: "0 < string <= 255",
    port: "1 <= number.integer <= 65535",
    "secure?": "boolean",
    "user?": "string <= 255",
    "password?": "string <= 255",
    from: "string.email",
    to: "string.email[] <= 20",
  }),
} as const;
const NewChannel = type({
  name: "0 < string <= 200",
  type: "'email' | 'slack' | 'teams' | 'discord' | 'telegram' | 'webhook' | 'sms'",
  config: "object",
});
const Channel = type({ id: "string", name: "string", type: NewChannel.get("type"), enabled: "boolean", createdAt: Timestamp });
const DeadLetter = type({
  id: "string",
  organizationId: "string",
  channelId: "string",
  alertId: "string | null",
  event: "string",
  payload: { subject: "string", text: "string", "alert?": "Record<string, unknown>" },
  status: "'pending' | 'delivered' | 'dead'",
  attempts: "number",
  lastError: "string | null",
  createdAt: Timestamp,
});

/** What the API shows of a channel: never its config (it holds secrets). */
const publicChannel = (c: ChannelRow) => ({ id: c.id, name: c.name, type: c.type, enabled: c.enabled, createdAt: c.createdAt });

/** Notification channels (secrets sealed with AES-256-GCM), a test-send, and the dead-letter list. */
export function notificationRoutes(s: Pick<Services, "notifier" | "secrets" | "sql">) {
  return new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .get(
      "/notification-channels",
      async ({ principal }) => ({ items: (await listChannels(s.sql, principal.organizationId)).map(publicChannel) }),
      {
        permission: "notification:manage",
        response: { 200: listOf(Channel) },
        detail: { summary: "Notification channels (configuration is never returned)", tags: ["alerts"] },
      },
    )
    .post(
      "/notification-channels",
      async ({ body, principal, set }) => {
        const config = Configs[body.type](body.config);
        if (config instanceof type.errors) throw new ValidationFailed(`invalid ${body.type} config: ${config.summary}`);
        const row = await insertChannel(s.sql, {
          organizationId: principal.organizationId,
          name: body.name,
          type: body.type,
          configEncrypted: s.secrets.seal(JSON.stringify(config)),
        });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "notification_channel.created",
          targetType: "notification_channel",
          targetId: row.id,
          details: { name: row.name, type: row.type },
        });
        set.status = 201;
        return publicChannel(row);
      },
      {
        permission: "alert:configure",
        body: NewChannel,
        response: { 201: Channel, ...errors(422) },
        detail: { summary: "Add a channel: email, slack, teams, discord, telegram, webhook or sms", tags: ["alerts"] },
      },
    )
    .delete(
      "/notification-channels/:id",
      async ({ params, principal }) => {
        if (!(await deleteChannel(s.sql, principal.organizationId, params.id)))
          throw new NotFound("CHANNEL_NOT_FOUND", "no such channel in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "notification_channel.deleted",
          targetType: "notification_channel",
          targetId: params.id,
        });
        return { ok: true };
      },
      {
        permission: "alert:configure",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Delete a channel", tags: ["alerts"] },
      },
    )
    .post(
      "/notification-channels/:id/test",
      async ({ params, principal }) => {
        const c = await getChannel(s.sql, principal.organizationId, params.id);
        if (!c) throw new NotFound("CHANNEL_NOT_FOUND", "no such channel in your organization");
        try {
          await deliver(c.type, JSON.parse(s.secrets.open(c.configEncrypted)), {
            subject: "SENTpulse test",
            text: `A test message for channel "${c.name}".`,
          });
          return { ok: true };
        } catch (err) {
          return { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      },
      {
        permission: "notification:manage",
        params: IdParam,
        response: { 200: type({ ok: "boolean", "error?": "string" }), ...errors(404, 422) },
        detail: { summary: "Send a test message now and report the outcome", tags: ["alerts"] },
      },
    )
    .get("/notification-dead-letters", async ({ principal }) => ({ items: await listDead(s.sql, principal.organizationId) }), {
      permission: "notification:manage",
      response: { 200: listOf(DeadLetter) },
      detail: { summary: "Deliveries that failed every attempt", tags: ["alerts"] },
    })
    .post(
      "/notification-dead-letters/:id/retry",
      async ({ params, principal }) => {
        if (!(await retryDead(s.sql, principal.organizationId, params.id)))
          throw new NotFound("DELIVERY_NOT_FOUND", "no such dead letter in your organization");
        await writeAudit(s.sql, { ...actorOf(principal), action: "notification.retried", targetId: params.id });
        void s.notifier.tick();
        return { ok: true };
      },
      {
        permission: "notification:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Send a dead letter again", tags: ["alerts"] },
      },
    );
}
