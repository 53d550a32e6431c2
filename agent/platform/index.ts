import { darwin } from "./darwin.ts";
import { linux } from "./linux.ts";
import type { OsName, Platform } from "./types.ts";
import { windows } from "./windows.ts";

/** The platform implementation for an OS; lets tests exercise every OS's pure parts on any host. */
export function platformFor(os: OsName): Platform {
  return { linux, windows, darwin }[os];
}

/** The platform this process runs on; throws on an OS the agent does not support. */
export function currentPlatform(): Platform {
  switch (process.platform) {
    case "linux":
      return linux;
    case "win32":
      return windows;
    case "darwin":
      return darwin;
    default:
      throw new UnsupportedPlatformError(process.platform);
  }
}

/** The agent runs on Linux, Windows and macOS only. */
class UnsupportedPlatformError extends Error {
  readonly code = "unsupported_platform";
  constructor(readonly platform: string) {
    super(`unsupported platform: ${platform}`);
  }
}
