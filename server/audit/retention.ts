import type { Sql } from "postgres";
import { deleteAuditBefore, writeAudit } from "./store.ts";

/**
 * The daily retention job: deletes audit entries older than `days` days (SENTPULSE_AUDIT_RETENTION_DAYS)
 * and, when it deleted any, leaves a system entry saying how many. Returns the number deleted.
 */
export async function applyAuditRetention(sql: Sql, days: number, now = new Date()): Promise<number> {
  const deleted = await deleteAuditBefore(sql, new Date(now.getTime() - days * 86_400_000));
  if (deleted > 0)
    await writeAudit(sql, {
      organizationId: null,
      actorType: "system",
      actorId: null,
      actorName: "audit retention",
      action: "audit.pruned",
      details: { deleted, olderThanDays: days },
    });
  return deleted;
}
