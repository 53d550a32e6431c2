import { Elysia } from "elysia";
import { agentRoutes } from "./agents/routes.ts";
import { auditRoutes } from "./audit/routes.ts";
import { automationRoutes } from "./automation/routes.ts";
import { maintenanceRoutes } from "./alerts/maintenance.ts";
import { alertRoutes } from "./alerts/routes.ts";
import { crossSiteGuard } from "./auth/cross-site.ts";
import { bodyRules } from "./body.ts";
import { principalChanges } from "./auth/plugin.ts";
import { authRoutes } from "./auth/routes.ts";
import { oidcRoutes } from "./auth/oidc-routes.ts";
import { commandRoutes } from "./commands/routes.ts";
import { libraryRoutes } from "./library/routes.ts";
import type { Services } from "./context.ts";
import { bulkRoutes } from "./devices/bulk.ts";
import { deviceRoutes } from "./devices/routes.ts";
import { enrollmentRoutes } from "./enrollment/routes.ts";
import { groupRoutes } from "./groups/routes.ts";
import { policyRoutes } from "./policies/routes.ts";
import { MAX_BODY_BYTES, errorHandler } from "./http.ts";
import { liveRoutes } from "./live/routes.ts";
import { apiReference } from "./openapi/routes.ts";
import { securityHeadersPlugin } from "./ops/headers.ts";
import { metricsRoutes } from "./ops/metrics.ts";
import { opsRoutes } from "./ops/routes.ts";
import { hierarchyRoutes } from "./sites/hierarchy.ts";
import { siteRoutes } from "./sites/routes.ts";
import { notificationRoutes } from "./notifications/routes.ts";
import { ruleRoutes } from "./rules/routes.ts";
import { scheduleRoutes } from "./schedules/routes.ts";
import { terminalRoutes } from "./terminal/routes.ts";
import { toolboxRoutes } from "./toolbox/routes.ts";
import { patchRoutes } from "./patches/routes.ts";
import { fileRoutes } from "./files/routes.ts";
import { userRoutes } from "./users/routes.ts";
import { roleRoutes } from "./roles/routes.ts";
import { compression } from "./ops/compression.ts";

/** The whole HTTP surface. `App` (its type) is what the Eden client is typed from. */
export function createApp(s: Services) {
  return (
    new Elysia({
      // Bun's own cut-off, above the 413 with a code that bodyRules answers from MAX_BODY_BYTES
      serve: { maxRequestBodySize: 2 * MAX_BODY_BYTES },
      websocket: { maxPayloadLength: 1_048_576, idleTimeout: 120 },
    })
      .use(errorHandler)
      .use(principalChanges(s.bus))
      // one .use() for both: one more on this chain is too deep for TypeScript (TS2589)
      .use(new Elysia().use(securityHeadersPlugin(s.config.publicUrl)).use(compression))
      .use(bodyRules)
      .use(crossSiteGuard({ publicUrl: s.config.publicUrl, allowedOrigins: s.config.allowedOrigins }))
      .use(apiReference(s.config.publicUrl))
      .use(authRoutes(s))
      .use(oidcRoutes(s))
      .use(bulkRoutes(s))
      .use(deviceRoutes(s))
      .use(enrollmentRoutes(s))
      .use(siteRoutes(s))
      .use(hierarchyRoutes(s))
      .use(groupRoutes(s))
      .use(policyRoutes(s))
      .use(userRoutes(s))
      .use(roleRoutes(s))
      .use(auditRoutes(s))
      .use(libraryRoutes(s))
      .use(commandRoutes(s, s.commands))
      .use(terminalRoutes(s, s.terminals))
      // grouped: one more link in this chain makes the App type too deep for tsc (TS2589)
      .use(new Elysia().use(toolboxRoutes(s)).use(patchRoutes(s, s.patches, s.patchScheduler)))
      .use(fileRoutes(s, s.files))
      .use(alertRoutes(s))
      .use(maintenanceRoutes(s))
      .use(ruleRoutes(s))
      .use(notificationRoutes(s))
      .use(scheduleRoutes(s))
      .use(automationRoutes(s))
      .use(agentRoutes(s))
      .use(liveRoutes(s))
      .use(metricsRoutes(s))
      .use(opsRoutes(s))
  );
}

export type App = ReturnType<typeof createApp>;
