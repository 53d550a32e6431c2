import type { api } from "./api.ts";

/** Shapes of API data, derived from the server's routes through Eden (never written twice). */
export type Data<F extends (...args: never[]) => Promise<{ data: unknown }>> = Exclude<Awaited<ReturnType<F>>["data"], null>;

export type Principal = Data<typeof api.api.v1.auth.me.get>["principal"];
export type DevicePage = Data<typeof api.api.v1.devices.get>;
export type Device = DevicePage["items"][number];
export type DeviceStatus = Device["status"];
export type DeviceDetail = Data<ReturnType<typeof api.api.v1.devices>["get"]>;
export type TelemetryRange = Data<ReturnType<typeof api.api.v1.devices>["telemetry"]["get"]>;
export type DeviceCounts = Data<typeof api.api.v1.devices.counts.get>;
export type AlertPage = Data<typeof api.api.v1.alerts.get>;
export type Alert = AlertPage["items"][number];
export type EnrollmentToken = Data<(typeof api.api.v1)["enrollment-tokens"]["get"]>["items"][number];
export type NewEnrollmentToken = Data<(typeof api.api.v1)["enrollment-tokens"]["post"]>;
export type ApiKey = Data<(typeof api.api.v1)["api-keys"]["get"]>["items"][number];
export type NewApiKey = Data<(typeof api.api.v1)["api-keys"]["post"]>;
export type OsName = "linux" | "windows" | "darwin";
export type Site = Data<typeof api.api.v1.sites.get>["items"][number];
export type TagUse = Data<typeof api.api.v1.tags.get>["items"][number];
export type User = Data<typeof api.api.v1.users.get>["items"][number];
export type AuditEntry = Data<typeof api.api.v1.audit.get>["items"][number];
export type Role = User["role"];
type DeviceQuery = NonNullable<NonNullable<Parameters<typeof api.api.v1.devices.get>[0]>["query"]>;
export type DeviceSortField = NonNullable<DeviceQuery["sort"]>;
export type SortOrder = NonNullable<DeviceQuery["order"]>;
export type Policy = Data<typeof api.api.v1.policies.get>["items"][number];
export type PolicyDetail = Data<ReturnType<typeof api.api.v1.policies>["get"]>;
export type PolicyBlock = Data<(typeof api.api.v1)["policy-blocks"]["get"]>["items"][number];
export type EffectivePolicy = Data<ReturnType<typeof api.api.v1.devices>["policies"]["get"]>;
