import type { Sql } from "postgres";
import type { Actor, ActorType } from "./actor.ts";

export interface AuditEntry {
  organizationId: string | null;
  actorType: ActorType | "agent" | "system";
  actorId: string | null;
  /** The actor's name at the time (e-mail, API key name, rule/workflow/schedule name). */
  actorName?: string | null;
  action: string;
  targetType?: string;
  targetId?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
}

/** Appends one row to the audit log. Every state change calls this; details never hold secrets. */
export async function writeAudit(sql: Sql, e: AuditEntry): Promise<void> {
  await sql`
    insert into audit_log (organization_id, actor_type, actor_id, actor_name, action, target_type, target_id, details, ip)
    values (${e.organizationId}, ${e.actorType}, ${e.actorId}, ${e.actorName ?? null}, ${e.action}, ${e.targetType ?? null},
            ${e.targetId ?? null}, ${sql.json((e.details ?? {}) as never)}, ${e.ip ?? null})`;
}

/** The actor fields of an audit entry for an actor of the organization. */
export function auditActor(organizationId: string, a: Actor): Pick<AuditEntry, "organizationId" | "actorType" | "actorId" | "actorName"> {
  return { organizationId, actorType: a.type, actorId: a.id, actorName: a.name };
}
