/** Bounds and patterns of the toolbox protocol, free of arktype so the agent can import them. */

/** Highest process id Linux hands out (pid_max 2^22); Windows and macOS stay below it as well. */
export const MAX_PID = 4_194_304;
/**
 * A service, unit, init script or launchd label: starts with a letter, digit or `_`, then letters,
 * digits, spaces (Windows service names) and `_ . : @ + -`. No slash, quote or shell metacharacter.
 */
export const SERVICE_NAME_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9 _.:@+\\-]{0,199}$";
/** Text searched in event messages: letters, digits, spaces and `_ . , : = @ / + # % -` (no shell metacharacter). */
export const LOG_TEXT_PATTERN = "^[A-Za-z0-9 _.,:=@/+#%\\-]{1,200}$";
/** Most events in one answer. */
export const MAX_LOG_EVENTS = 500;
/** Most processes in one answer (a host with more lists the first ones by pid). */
export const MAX_PROCESSES = 5000;
/** Characters of a command line kept. */
export const MAX_COMMAND_CHARS = 2048;
/** Most services in one answer. */
export const MAX_SERVICES = 5000;
/** Characters of an event message kept. */
export const MAX_MESSAGE_CHARS = 2048;
/** Most environment variables in one answer. */
export const MAX_ENV_VARS = 2000;
/** A MAC address as the agent reports it: six lower- or upper-case hex pairs joined by colons. */
export const MAC_PATTERN = "^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$";
/** A dotted IPv4 address (each part 0-255). */
export const IPV4_PATTERN = "^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$";
