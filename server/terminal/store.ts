import type { Sql } from "postgres";
import { pageRows } from "../lib/limits.store.ts";
import type { Reach } from "../auth/permissions.ts";
import { inReach } from "../devices/reach.store.ts";

export interface TerminalSessionRow {
  id: string;
  deviceId: string;
  userId: string | null;
  userEmail: string | null;
  startedAt: Date;
  endedAt: Date | null;
  endReason: string | null;
  cols: number;
  rows: number;
  recordingTruncated: boolean;
}

export async function insertSession(
  sql: Sql,
  s: { id: string; organizationId: string; deviceId: string; userId: string | null; cols: number; rows: number },
): Promise<void> {
  await sql`insert into terminal_sessions (id, organization_id, device_id, user_id, cols, rows)
            values (${s.id}, ${s.organizationId}, ${s.deviceId}, ${s.userId}, ${s.cols}, ${s.rows})`;
}

export async function endSession(sql: Sql, id: string, reason: string, recording: string, truncated: boolean): Promise<void> {
  await sql`update terminal_sessions set ended_at = now(), end_reason = ${reason}, recording = ${recording},
              recording_truncated = ${truncated} where id = ${id} and ended_at is null`;
}

export async function listSessions(
  sql: Sql,
  organizationId: string,
  deviceId: string | undefined,
  limit: number,
  reach: Reach | null = null,
): Promise<TerminalSessionRow[]> {
  const rows = pageRows(sql, limit);
  const found = await sql<TerminalSessionRow[]>`
    select t.id, t.device_id as "deviceId", t.user_id as "userId", u.email as "userEmail", t.started_at as "startedAt",
           t.ended_at as "endedAt", t.end_reason as "endReason", t.cols, t.rows, t.recording_truncated as "recordingTruncated"
    from terminal_sessions t left join users u on u.id = t.user_id
    where t.organization_id = ${organizationId} ${deviceId ? sql`and t.device_id = ${deviceId}` : sql``}
    ${inReach(sql, reach, { id: "t.device_id" })}
    order by t.started_at desc limit ${rows.limit}`;
  return rows.take(found);
}

/** A session's recording and device, undefined when it is not the organization's. */
export async function getRecording(
  sql: Sql,
  organizationId: string,
  id: string,
): Promise<{ recording: string; deviceId: string } | undefined> {
  const [row] = await sql<{ recording: string; deviceId: string }[]>`
    select recording, device_id as "deviceId" from terminal_sessions where id = ${id} and organization_id = ${organizationId}`;
  return row;
}
