import { AppError } from "../errors.ts";
import { COMMON_PASSWORDS } from "./common-passwords.ts";

/** The shortest password accepted, in characters (one constant for every organization). */
const PASSWORD_MIN_LENGTH = 12;

/** A password the policy refuses: 422 with `PASSWORD_TOO_SHORT`, `PASSWORD_IS_EMAIL` or `PASSWORD_TOO_COMMON`. */
class PasswordRejected extends AppError {
  constructor(code: "PASSWORD_TOO_SHORT" | "PASSWORD_IS_EMAIL" | "PASSWORD_TOO_COMMON", message: string) {
    super(422, code, message, { field: "password" });
  }
}

/**
 * The password policy, for new users and password changes (after NIST SP 800-63B: length and a
 * block list, no composition rules): at least 12 characters, not the user's e-mail address (or its
 * part before the @), not one of the most common passwords, not one character repeated. Throws
 * `PasswordRejected`.
 */
export function checkPassword(password: string, email: string): void {
  if ([...password].length < PASSWORD_MIN_LENGTH)
    throw new PasswordRejected("PASSWORD_TOO_SHORT", `the password needs at least ${PASSWORD_MIN_LENGTH} characters`);
  const lower = password.trim().toLowerCase();
  const address = email.trim().toLowerCase();
  if (lower === address || lower === address.slice(0, address.indexOf("@")))
    throw new PasswordRejected("PASSWORD_IS_EMAIL", "the password cannot be your e-mail address");
  if (COMMON_PASSWORDS.has(lower) || new Set(lower).size === 1)
    throw new PasswordRejected("PASSWORD_TOO_COMMON", "that password is among the most common ones; choose another");
}
