import type { Sql } from "postgres";
import { type AuditEntry, writeAudit } from "../audit/store.ts";
import { TooManyRequests } from "../errors.ts";
import { LoginThrottle, type ThrottleKey, type ThrottleLimits } from "./throttle.ts";

type Actor = Pick<AuditEntry, "organizationId" | "actorType" | "actorId" | "actorName">;

/**
 * The one sign-in throttle of the process and its audit trail, shared by everything that checks a
 * secret a guesser could try: the password and the second factor at sign-in, and the re-checks of
 * password or code before turning two-factor off or changing the password.
 */
export class SignInGuard {
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly sql: Sql,
    limits?: ThrottleLimits,
  ) {
    this.throttle = new LoginThrottle(limits);
  }

  /** 429 `RATE_LIMITED` (with `Retry-After` in seconds) while any of `keys` is held. */
  check(keys: readonly ThrottleKey[], headers: Record<string, unknown>): void {
    const heldMs = this.throttle.heldFor(keys);
    if (heldMs <= 0) return;
    const seconds = Math.ceil(heldMs / 1000);
    headers["retry-after"] = String(seconds);
    throw new TooManyRequests(`too many failed sign-ins; try again in ${seconds} s`);
  }

  /** Counts a failure against `keys` and audits it (`action`), and any hold it started (`auth.login_held`). */
  async fail(keys: readonly ThrottleKey[], actor: Actor, ip: string, action: string, details: Record<string, unknown> = {}): Promise<void> {
    await writeAudit(this.sql, { ...actor, action, ip, details });
    for (const hold of this.throttle.fail(keys)) {
      await writeAudit(this.sql, {
        ...actor,
        action: "auth.login_held",
        ip,
        details: { scope: hold.key.slice(0, hold.key.indexOf(":")), failures: hold.failures, seconds: hold.holdMs / 1000 },
      });
    }
  }

  /** A success clears the account and browser keys (never the address). */
  succeed(keys: readonly ThrottleKey[]): void {
    this.throttle.succeed(keys);
  }
}
