import { describe, expect, expectTypeOf, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import type { App } from "../app.ts";

/**
 * Type tests (checked by `tsc --noEmit`): the response schemas type Eden's answers, errors
 * included. The calls go to a closed port, so at run time only the 503 of a failed fetch comes back.
 */
describe("the Eden client is typed from the response schemas", () => {
  const api = treaty<App>("http://127.0.0.1:9", { fetch: { signal: AbortSignal.timeout(2000) } });

  test("GET /api/v1/devices/:id: the device on 200, the error body on 401, 403, 404", async () => {
    const { data, error } = await api.api.v1.devices({ id: "0190a7c2-0000-7000-8000-000000000000" }).get();
    expectTypeOf<NonNullable<typeof data>["hostname"]>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<typeof data>["memoryTotalBytes"]>().toEqualTypeOf<number>();
    expectTypeOf<NonNullable<typeof error>["status"]>().toEqualTypeOf<401 | 403 | 404 | 422>();
    expectTypeOf<NonNullable<typeof error>["value"]["error"]["code"]>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<typeof error>["value"]["error"]["message"]>().toEqualTypeOf<string>();
    expect(data).toBeNull();
  });

  test("GET /api/v1/devices: a page whose total is a number", async () => {
    const { data, error } = await api.api.v1.devices.get({ query: { limit: 10 } });
    expectTypeOf<NonNullable<typeof data>["total"]>().toEqualTypeOf<number>();
    expectTypeOf<NonNullable<typeof data>["nextCursor"]>().toEqualTypeOf<string | null>();
    expectTypeOf<NonNullable<typeof error>["value"]["error"]["code"]>().toEqualTypeOf<string>();
    expect(error).not.toBeNull();
  });
});
