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
