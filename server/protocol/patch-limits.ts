/**
 * The patch protocol's bounds and patterns as plain values, free of arktype: the agent imports them
 * (server/protocol/patch.ts evaluates arktype schemas, ~30 MB of RSS in the compiled agent;
 * agent/bundle.test.ts keeps arktype out of the agent).
 */

/** Software items in one inventory message, at most (a frame stays under 1 MiB). */
export const MAX_SOFTWARE_ITEMS = 6000;
/** Pending updates in one scan, at most. */
export const MAX_PENDING_UPDATES = 2000;
/** Updates in one install command, at most. */
export const MAX_INSTALL_UPDATES = 200;

/** An installable package or update id: letters, digits and `+ . _ : @ / -`, starting with a letter or digit (no spaces, no shell metacharacters). */
export const PACKAGE_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9+._:@/-]{0,255}$";
/** A package version: letters, digits and `. + ~ : _ -`. */
export const PACKAGE_VERSION_PATTERN = "^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,127}$";
