import { existsSync } from "node:fs";
import type { Sql } from "postgres";
import { writeAudit } from "../audit/store.ts";
import { newSecret, sha256 } from "../lib/crypto.ts";
import { firstSite } from "../sites/store.ts";
import { insertToken } from "./store.ts";

/**
 * For `scripts/start`: a single-use, 15-minute enrollment token for this machine's own agent,
 * written 0600 to `file` (only when the file does not exist yet), in the first organization.
 */
export async function writeLocalEnrollToken(sql: Sql, file: string): Promise<boolean> {
  if (existsSync(file)) return false;
  const site = await firstSite(sql);
  if (!site) return false;
  const token = newSecret("spe_", 24);
  const row = await insertToken(sql, {
    organizationId: site.organizationId,
    siteId: site.id,
    tokenHash: sha256(token),
    prefix: token.slice(0, 10),
    tags: ["local"],
    expiresAt: new Date(Date.now() + 15 * 60_000),
    maxUses: 1,
    createdBy: null,
  });
  await writeAudit(sql, {
    organizationId: site.organizationId,
    actorType: "system",
    actorId: null,
    action: "enrollment_token.created",
    targetType: "enrollment_token",
    targetId: row.id,
    details: { purpose: "local agent" },
  });
  await Bun.write(file, token, { mode: 0o600 });
  return true;
}
