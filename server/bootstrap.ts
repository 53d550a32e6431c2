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
    const { organizationId, userId } = await createTenant(tx, {
      organization: "My MSP",
      owner: { email, name: "Administrator", passwordHash },
      platformAdmin: true,
    });
    await writeAudit(tx, {
      organizationId,
      actorType: "system",
      actorId: null,
      action: "bootstrap",
      targetType: "user",
      targetId: userId,
      details: { email },
    });
    return generated ? { created: true, email, generatedPassword: generated } : { created: true, email };
  });
  return created ?? { created: false };
}

/**
 * A new organization ready to use: a default client and site (where devices enroll), its owner, and
 * the default alert rules. Run inside the caller's transaction.
 */
export async function createTenant(
  tx: Sql,
  t: { organization: string; slug?: string; owner: { email: string; name: string; passwordHash: string }; platformAdmin?: boolean },
): Promise<{ organizationId: string; userId: string }> {
  const organizationId = await createOrganization(tx, {
    organization: t.organization,
    slug: t.slug,
    client: "Default client",
    site: "Default site",
  });
  const user = await createUser(tx, { organizationId, role: "owner", ...t.owner, platformAdmin: t.platformAdmin ?? false });
  for (const rule of DEFAULT_RULES) await insertRule(tx, organizationId, rule);
  return { organizationId, userId: user.id };
}
