import type { Sql } from "postgres";
import { writeAudit } from "./audit/store.ts";
import { countUsers } from "./auth/store.ts";
import { DEFAULT_RULES, insertRule } from "./rules/store.ts";
import { createUser } from "./users/store.ts";

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
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    await tx`select pg_advisory_xact_lock(7336002)`;
    if ((await countUsers(tx)) > 0) return { created: false };
    const [org] = await tx<{ id: string }[]>`insert into organizations (name) values ('My MSP') returning id`;
    if (!org) throw new Error("could not create the organization");
    const [client] = await tx<
      { id: string }[]
    >`insert into clients (organization_id, name) values (${org.id}, 'Default client') returning id`;
    await tx`insert into sites (organization_id, client_id, name) values (${org.id}, ${client?.id ?? null}, 'Default site')`;
    const user = await createUser(tx, {
      organizationId: org.id,
      email,
      name: "Administrator",
      role: "owner",
      passwordHash,
    });
    for (const rule of DEFAULT_RULES) await insertRule(tx, org.id, rule);
    await writeAudit(tx, {
      organizationId: org.id,
      actorType: "system",
      actorId: null,
      action: "bootstrap",
      targetType: "user",
      targetId: user.id,
      details: { email },
    });
    return generated ? { created: true, email, generatedPassword: generated } : { created: true, email };
  });
}
