import { readFileSync } from "node:fs";

/** Names of user and group ids from /etc/passwd and /etc/group, read again after a minute. */
const TTL_MS = 60_000;
let cache:
  | {
      at: number;
      users: Map<number, string>;
      groups: Map<number, string>;
      userIds: Map<string, number>;
      groupIds: Map<string, number>;
      primaryGroups: Map<string, number>;
    }
  | undefined;

function parse(file: string): [Map<number, string>, Map<string, number>, Map<string, number>] {
  const byId = new Map<number, string>();
  const byName = new Map<string, number>();
  const primary = new Map<string, number>();
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [byId, byName, primary];
  }
  for (const line of text.split("\n").slice(0, 100_000)) {
    const [name, , id, gid] = line.split(":");
    const n = Number(id);
    if (!name || !Number.isInteger(n)) continue;
    if (!byId.has(n)) byId.set(n, name);
    byName.set(name, n);
    if (gid && /^[0-9]+$/.test(gid)) primary.set(name, Number(gid));
  }
  return [byId, byName, primary];
}

function tables() {
  if (!cache || Date.now() - cache.at > TTL_MS) {
    const [users, userIds, primaryGroups] = parse("/etc/passwd");
    const [groups, groupIds] = parse("/etc/group");
    cache = { at: Date.now(), users, groups, userIds, groupIds, primaryGroups };
  }
  return cache;
}

/** A user id's name (the id as text when it has none). */
export function userName(uid: number): string {
  return tables().users.get(uid) ?? String(uid);
}

export function groupName(gid: number): string {
  return tables().groups.get(gid) ?? String(gid);
}

/** A user name or numeric id as a uid; undefined when unknown. */
export function userId(name: string): number | undefined {
  return /^[0-9]+$/.test(name) ? Number(name) : tables().userIds.get(name);
}

export function groupId(name: string): number | undefined {
  return /^[0-9]+$/.test(name) ? Number(name) : tables().groupIds.get(name);
}

/** A user's uid and primary gid from /etc/passwd; undefined when there is no such user. */
export function account(name: string): { uid: number; gid: number } | undefined {
  const t = tables();
  const uid = t.userIds.get(name);
  const gid = t.primaryGroups.get(name);
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}
