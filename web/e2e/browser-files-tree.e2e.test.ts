import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { EnrolledAgent } from "../../server/testing/agents.ts";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { type TestServer, waitFor } from "../../server/testing/harness.ts";

/**
 * The folder tree beside a pane's list, in Chromium against the real server and the real compiled
 * agent: the pane's folder is marked with its ancestors opened, folders load when expanded, the
 * keyboard walks and opens them, and a row (or a file from the desktop) dropped on a tree folder
 * lands there on the device's disk. Then a site's default transfer cap set in Settings → Clients and
 * sites: shown on the site's row, stored, audited, and used by a download from the site's device.
 */
let rig: BrowserRig;
let srv: TestServer;
let agent: EnrolledAgent;
let page: Page;
let dir: string;

beforeAll(async () => {
  rig = await startBrowserRig("browser-files-tree");
  ({ srv, agent, page } = rig);
  dir = mkdtempSync("/tmp/sp-browser-tree-");
  mkdirSync(join(dir, "sub"));
  mkdirSync(join(dir, "archive"));
  for (const d of [dir, join(dir, "sub"), join(dir, "archive")]) chmodSync(d, 0o777);
  writeFileSync(join(dir, "sub", "inner.txt"), "inside sub\n");
  writeFileSync(join(dir, "sub", "moved.txt"), "to be moved\n");
  chmodSync(join(dir, "sub", "moved.txt"), 0o666);
}, 120_000);
afterEach(() => rig?.checkPage());
afterAll(async () => {
  await rig?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pane = () => page.getByTestId("file-pane").first();
const item = (path: string) => pane().locator(`[data-testid="tree-item"][data-tree-path="${path}"]`);
const row = (name: string) => pane().locator(`[data-testid="file-row"][data-name="${name}"]`);
const focusedPath = () => page.evaluate(() => document.activeElement?.getAttribute("data-tree-path") ?? null);

describe("the folder tree in Chromium", () => {
  test("the tree shows the pane's folder, selected, with its ancestors expanded", async () => {
    await rig.signIn();
    await waitFor(
      "online",
      async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
      30_000,
    );
    await page.goto(`${srv.url}/devices/${agent.deviceId}?tab=files`);
    await pane().getByTestId("file-tree").waitFor();
    expect(await pane().getByTestId("files-tree-toggle").getAttribute("aria-pressed")).toBe("true");
    // the root's folders load from the device
    await item("/tmp").waitFor({ timeout: 15_000 });
    expect(await item("/").getAttribute("aria-expanded")).toBe("true");
    await pane().getByTestId("files-goto").fill(dir);
    await pane().getByTestId("files-goto").press("Enter");
    await item(dir).waitFor({ timeout: 15_000 });
    expect(await item("/tmp").getAttribute("aria-expanded")).toBe("true");
    await waitFor("marked", async () => (await item(dir).getAttribute("aria-selected")) === "true", 10_000, 100);
    expect(await item(dir).getAttribute("aria-level")).toBe("3");
    expect(await item(dir).textContent()).toContain(dir.split("/").at(-1) as string);
  });

  test("keyboard: → expands (its folders load), ↓ moves, Enter opens in the pane, ← goes back to the parent", async () => {
    await item(dir).focus();
    await page.keyboard.press("ArrowRight");
    await item(join(dir, "archive")).waitFor({ timeout: 10_000 });
    await item(join(dir, "sub")).waitFor();
    expect(await item(dir).getAttribute("aria-expanded")).toBe("true");
    // sorted by name: archive, then sub
    await page.keyboard.press("ArrowDown");
    expect(await focusedPath()).toBe(join(dir, "archive"));
    await page.keyboard.press("ArrowDown");
    expect(await focusedPath()).toBe(join(dir, "sub"));
    await page.keyboard.press("Enter");
    await waitFor("pane opened sub", async () => (await pane().getAttribute("data-path")) === join(dir, "sub"), 10_000, 100);
    await row("inner.txt").waitFor({ timeout: 10_000 });
    await waitFor("sub marked", async () => (await item(join(dir, "sub")).getAttribute("aria-selected")) === "true", 10_000, 100);
    await page.keyboard.press("ArrowLeft");
    expect(await focusedPath()).toBe(dir);
    // ← on an expanded folder collapses it
    await page.keyboard.press("ArrowLeft");
    await waitFor("collapsed", async () => (await item(join(dir, "sub")).count()) === 0, 5_000, 100);
    expect(await item(dir).getAttribute("aria-expanded")).toBe("false");
    await page.keyboard.press("ArrowRight");
    await item(join(dir, "sub")).waitFor();
    await rig.shot("files-tree");
  });

  test("a row dropped on a tree folder is copied there; with Shift held, moved", async () => {
    await row("inner.txt").dragTo(item(dir));
    await waitFor("copied into the folder", async () => existsSync(join(dir, "inner.txt")), 15_000);
    expect(readFileSync(join(dir, "inner.txt"), "utf8")).toBe("inside sub\n");
    expect(existsSync(join(dir, "sub", "inner.txt"))).toBe(true);
    // the audit entry is written once the device has answered, a moment after the file is there
    const copy = await waitFor("the copy audited", async () => {
      const [a] = await srv.sql<{ details: { to: string; outcome: string } }[]>`
        select details from audit_log where action = 'file.copy' order by created_at desc limit 1`;
      return a;
    });
    expect(copy.details).toMatchObject({ to: join(dir, "inner.txt"), outcome: "ok" });

    const dt = await page.evaluateHandle(
      (p) => {
        const t = new DataTransfer();
        t.setData("application/x-sentpulse-path", JSON.stringify(p));
        return t;
      },
      { deviceId: agent.deviceId, path: join(dir, "sub", "moved.txt") },
    );
    await item(join(dir, "archive")).dispatchEvent("dragover", { dataTransfer: dt });
    await item(join(dir, "archive")).dispatchEvent("drop", { dataTransfer: dt, shiftKey: true });
    await waitFor("moved into archive", async () => existsSync(join(dir, "archive", "moved.txt")), 15_000);
    expect(existsSync(join(dir, "sub", "moved.txt"))).toBe(false);
    // the pane (showing sub) reloads: the moved file is gone from its list
    await row("moved.txt").waitFor({ state: "detached", timeout: 10_000 });
  });

  test("a file from the desktop dropped on a tree folder is uploaded into that folder", async () => {
    const dropped = await page.evaluateHandle(() => {
      const t = new DataTransfer();
      t.items.add(new File(["dropped on the tree\n"], "from-desktop.txt", { type: "text/plain" }));
      return t;
    });
    await item(join(dir, "archive")).dispatchEvent("dragover", { dataTransfer: dropped });
    await item(join(dir, "archive")).dispatchEvent("drop", { dataTransfer: dropped });
    await waitFor("uploaded", async () => existsSync(join(dir, "archive", "from-desktop.txt")), 30_000);
    expect(readFileSync(join(dir, "archive", "from-desktop.txt"), "utf8")).toBe("dropped on the tree\n");
  });

  test("properties show the POSIX ACL read by getfacl on the device", async () => {
    const shared = join(dir, "archive", "from-desktop.txt");
    const r = Bun.spawnSync(["setfacl", "-m", "u:daemon:rw-,m::r--", shared]);
    expect(r.exitCode).toBe(0);
    await item(join(dir, "archive")).click();
    await row("from-desktop.txt").getByTestId("file-properties").click();
    const props = page.locator('dialog[open][data-testid="properties-dialog"]');
    await props.getByTestId("files-acl").waitFor({ timeout: 10_000 });
    await waitFor("its ACL", async () => ((await props.getByTestId("files-acl").textContent()) ?? "").includes("user:daemon"), 10_000, 100);
    const daemon = props.getByTestId("acl-row").filter({ hasText: "user:daemon" });
    expect(await daemon.textContent()).toContain("rw-");
    // the mask leaves read only: shown as the effective permissions
    expect(await daemon.locator("td").nth(2).textContent()).toBe("r--");
    // no ACL editor outside Windows
    expect(await props.getByTestId("acl-edit").count()).toBe(0);
    await rig.shot("files-properties-acl");
    await props.getByRole("button", { name: "Close" }).click();
  });

  test("the tree can be hidden (and stays so on the next visit)", async () => {
    await pane().getByTestId("files-tree-toggle").click();
    await pane().getByTestId("file-tree").waitFor({ state: "detached" });
    await page.reload();
    await pane().getByTestId("file-row").first().waitFor({ timeout: 15_000 });
    expect(await pane().getByTestId("file-tree").count()).toBe(0);
    expect(await pane().getByTestId("files-tree-toggle").getAttribute("aria-pressed")).toBe("false");
    await pane().getByTestId("files-tree-toggle").click();
    await pane().getByTestId("file-tree").waitFor();
  });
});

describe("a site's transfer cap in Settings → Clients and sites", () => {
  test("set in the dialog: shown on the site's row, stored and audited, applied to the device's download; then removed", async () => {
    await page.goto(`${srv.url}/settings`);
    const site = page.getByTestId("client-row").filter({ hasText: "Default client" }).getByTestId("site-row").first();
    await site.waitFor({ timeout: 15_000 });
    expect(await site.getByTestId("site-transfer-cap").textContent()).toContain("no cap");
    await site.getByTestId("site-transfer-cap-edit").click();
    const dialog = page.locator('dialog[open][data-testid="site-cap-dialog"]');
    await dialog.waitFor();
    await dialog.getByTestId("site-cap-value").fill("256");
    await dialog.getByTestId("site-cap-unit").selectOption("KiB/s");
    await dialog.getByTestId("site-cap-save").click();
    await waitFor(
      "shown",
      async () => ((await site.getByTestId("site-transfer-cap").textContent()) ?? "").includes("256 KiB/s per device"),
      10_000,
      100,
    );
    const [row] = await srv.sql<{ rate: number }[]>`
      select s.files_rate_limit_bps::float8 as rate from sites s join devices d on d.site_id = s.id where d.id = ${agent.deviceId}`;
    expect(row?.rate).toBe(256 * 1024);
    const [audit] = await srv.sql<{ details: unknown; actorName: string }[]>`
      select details, actor_name as "actorName" from audit_log where action = 'site.updated' order by id desc limit 1`;
    expect(audit?.details).toEqual({ filesRateLimitBps: { before: null, after: 256 * 1024 } });
    await rig.shot("settings-site-transfer-cap");

    // a download from the site's device without its own cap is held to the site's rate (measured
    // exactly in server/e2e/files-site-cap.e2e.test.ts; here: 8 MB take far longer than they would uncapped)
    const big = join(dir, "capped.bin");
    writeFileSync(big, new Uint8Array(8 * 1024 * 1024));
    chmodSync(big, 0o644);
    const started = performance.now();
    const res = await fetch(`${srv.url}/api/v1/devices/${agent.deviceId}/files/download?path=${encodeURIComponent(big)}`, {
      headers: { cookie: srv.cookie },
    });
    const id = res.headers.get("x-transfer-id") ?? "";
    const reading = (async () => {
      try {
        for await (const _ of res.body as ReadableStream<Uint8Array>);
      } catch {}
    })();
    await Bun.sleep(5000);
    const t = (await (await srv.api(`/api/v1/files/transfers/${id}`)).json()) as { state: string; doneBytes: number };
    const elapsed = (performance.now() - started) / 1000;
    expect(t.state).toBe("running");
    expect(t.doneBytes).toBeGreaterThan(0);
    expect(t.doneBytes).toBeLessThan(256 * 1024 * elapsed * 1.1 + 256 * 1024);
    expect((await srv.api(`/api/v1/files/transfers/${id}/cancel`, { body: {} })).status).toBe(200);
    await reading;

    await site.getByTestId("site-transfer-cap-edit").click();
    await dialog.waitFor();
    expect(await dialog.getByTestId("site-cap-value").inputValue()).toBe("256");
    await dialog.getByTestId("site-cap-clear").click();
    await waitFor(
      "cleared",
      async () => ((await site.getByTestId("site-transfer-cap").textContent()) ?? "").includes("no cap"),
      10_000,
      100,
    );
  }, 60_000);
});
