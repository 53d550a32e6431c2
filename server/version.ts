/** Server and agent version, shared by both (the agent reports it in its hello). */
export const VERSION = "0.1.0";
