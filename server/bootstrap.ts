import type { Sql } from "postgres";
import { writeAudit } from "./audit/store.ts";
import { countUsers } from "./auth/store.ts";
import { DEFAULT_RULES, insertRule } from "./rules/store.ts";
import { createOrganization } from "./sites/store.ts";
import { createUser, ifNoUsers } from "./users/store.ts";

export interface BootstrapResult {
  created: boolean;
  email?: string;
  /** Set only when the password was generated (printed once, never stored in clear). */
  generatedPassword?: string;
}

/**
 * On an empty database: the first organization with a default client and site, and the admin
 * from SENTPULSE_ADMIN_EMAIL / SENTPULSE_ADMIN_PASSWORD (or a generated password).
 */
export async function bootstrap(sql: Sql, admin: { email?: string | undefined; password?: string | undefined }): Promise<BootstrapResult> {
  if ((await countUsers(sql)) > 0) return { created: false };
  const email = admin.email ?? "admin@sentpulse.local";
  const generated = admin.password ? undefined : Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString("base64url");
  const passwordHash = await Bun.password.hash(admin.password ?? generated ?? "", { algorithm: "argon2id" });
  const created = await ifNoUsers(sql, async (tx) => {
    const organizationId = await createOrganization(tx, { organization: "My MSP", client: "Default client", site: "Default site" });
    const user = await createUser(tx, { organizationId, email, name: "Administrator", role: "owner", passwordHash });
    for (const rule of DEFAULT_RULES) await insertRule(tx, organizationId, rule);
    await writeAudit(tx, {
      organizationId,
      actorType: "system",
      actorId: null,
      action: "bootstrap",
      targetType: "user",
      targetId: user.id,
      details: { email },
    });
    return generated ? { created: true, email, generatedPassword: generated } : { created: true, email };
  });
  return created ?? { created: false };
}
