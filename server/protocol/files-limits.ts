/** Bounds and patterns of the file explorer's protocol, free of arktype so the agent can import them. */

/**
 * A path on the device: absolute (`/…`, or `C:\…` / `C:/…` on Windows), at most 4,096 characters, no
 * NUL or other control character, and no `..` segment (separated by `/` or `\`). Checked by the
 * server's routes (422 before the device is asked) and again by the agent.
 */
export const FILE_PATH_PATTERN =
  "^(?=[^\\n]{1,4096}$)(?!.*(?:^|[\\x2f\\x5c])\\.\\.(?:[\\x2f\\x5c]|$))(?:\\x2f|[A-Za-z]:[\\x2f\\x5c])[^\\x00-\\x1f\\x7f]*$";
/** A user or group name for chown (POSIX portable names, optionally ending in `$`), or a numeric id. */
export const ACCOUNT_NAME_PATTERN = "^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?|[0-9]{1,10})$";
/** Bytes of file data in one chunk over the agent's socket (base64 in a JSON frame: ~700 KB, under the 1 MiB frame limit). */
export const MAX_CHUNK_BYTES = 524_288;
/** Base64 characters of one chunk, at most. */
export const MAX_CHUNK_BASE64 = Math.ceil(MAX_CHUNK_BYTES / 3) * 4;
/** Entries of one directory listing, at most (the answer is also cut to fit one frame). */
export const MAX_LIST_ENTRIES = 5000;
/** Entries a recursive count, copy or delete walks, at most (beyond: `TOO_MANY_ENTRIES`, nothing more done). */
export const MAX_WALK_ENTRIES = 1_000_000;
/** Characters of a file name in a listing. */
export const MAX_NAME_CHARS = 1024;
/**
 * A Windows account for an ACL change, as icacls takes it: `NAME`, `DOMAIN\NAME` (letters, digits,
 * space . _ - $; no `:`, `(`, `)`, `,` or leading `/`, so it can never carry rights or a switch of
 * its own) or a SID written `*S-1-…`.
 */
export const ACL_IDENTITY_PATTERN =
  "^(?:\\*S-1-[0-9]{1,3}(?:-[0-9]{1,10}){1,14}|(?:[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}\\x5c)?[A-Za-z0-9_][A-Za-z0-9 ._$-]{0,63})$";
/** The rights of an ACL change: one simple right of icacls (F, M, RX, R, W, D) or a comma list of specific ones. */
const ACL_SIMPLE_RIGHTS = ["F", "M", "RX", "R", "W", "D"] as const;
const ACL_SPECIFIC_RIGHTS = [
  "DE",
  "RC",
  "WDAC",
  "WO",
  "S",
  "AS",
  "MA",
  "GR",
  "GW",
  "GE",
  "GA",
  "RD",
  "WD",
  "AD",
  "REA",
  "WEA",
  "X",
  "DC",
  "RA",
  "WA",
] as const;
export const ACL_RIGHTS_PATTERN = `^(?:${ACL_SIMPLE_RIGHTS.join("|")}|(?:${ACL_SPECIFIC_RIGHTS.join("|")})(?:,(?:${ACL_SPECIFIC_RIGHTS.join("|")})){0,19})$`;
/** Inheritance flags of an ACL entry (directories only): object inherit, container inherit, inherit only, no propagation. */
export const ACL_INHERITANCE = ["OI", "CI", "IO", "NP"] as const;
/** Entries of one ACL answered, at most. */
export const MAX_ACL_ENTRIES = 500;
