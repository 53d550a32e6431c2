import type { Principal } from "../auth/roles.ts";

/** What can act: a signed-in user, a program with an API key, or an automation of the organization. */
export type ActorType = "user" | "api_key" | "rule" | "workflow" | "schedule";

/**
 * Who did something, recorded on commands, alert notes and audit entries: the id, and the name as it
 * was then (a user's e-mail, an API key's name, a rule's, workflow's or schedule's name), so the
 * record still reads right after a rename or a deletion.
 */
export interface Actor {
  type: ActorType;
  id: string;
  name: string;
}

/** The actor behind a request. */
export function principalActor(p: Principal): Actor {
  return { type: p.kind, id: p.id, name: p.name };
}
