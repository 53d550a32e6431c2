import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type EnrolledAgent, enrollRealAgent } from "../../server/testing/agents.ts";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { type TestServer, waitFor } from "../../server/testing/harness.ts";

/**
 * The Files tab in Chromium against the real server and the real compiled agent: browse a folder in
 * the dual pane, upload by dropping a file on a pane, rename, delete a folder after a confirmation
 * that shows what it holds, download, and copy by dragging a row to the other pane. Every step is
 * checked on this machine's disk, where the agent acted.
 */
let rig: BrowserRig;
let srv: TestServer;
let agent: EnrolledAgent;
let page: Page;
let dir: string;
let other: string;

beforeAll(async () => {
  rig = await startBrowserRig("browser-files");
  ({ srv, agent, page } = rig);
  dir = mkdtempSync("/tmp/sp-browser-files-");
  other = mkdtempSync("/tmp/sp-browser-other-");
  for (const d of [dir, other]) chmodSync(d, 0o777);
  writeFileSync(join(dir, "report.txt"), "quarterly numbers\n");
  chmodSync(join(dir, "report.txt"), 0o666);
  mkdirSync(join(dir, "old"));
  chmodSync(join(dir, "old"), 0o777);
  writeFileSync(join(dir, "old", "a.log"), "a");
  writeFileSync(join(dir, "old", "b.log"), "bb");
}, 120_000);
afterEach(() => rig?.checkPage());
afterAll(async () => {
  await rig?.stop();
  for (const d of [dir, other]) if (d) rmSync(d, { recursive: true, force: true });
});

const pane = (i: number) => page.getByTestId("file-pane").nth(i);
/**
 * Drags a row onto a pane's list as a hand does: press on the row, move a little, then in steps to
 * the list (with the folder tree beside it a pane is taller than the window, and Playwright's dragTo
 * scrolled the page so that the press missed the row).
 */
const drag = async (source: ReturnType<typeof row>, target: ReturnType<typeof pane>) => {
  // a window tall enough to show the row and the list at once (a person would scroll while dragging)
  const viewport = page.viewportSize();
  if (viewport) await page.setViewportSize({ width: viewport.width, height: 2400 });
  try {
    // the list may render again between finding the row and scrolling to it (a live event, a refresh):
    // the locator finds it again
    for (let attempt = 0; ; attempt++) {
      try {
        await source.scrollIntoViewIfNeeded();
        break;
      } catch (err) {
        if (attempt >= 4 || !String(err).includes("not attached")) throw err;
        await page.waitForTimeout(100);
      }
    }
    const s = await source.boundingBox();
    const t = await target.boundingBox();
    if (!s || !t) throw new Error("nothing to drag or nowhere to drop");
    await page.mouse.move(s.x + 40, s.y + s.height / 2);
    await page.mouse.down();
    await page.mouse.move(s.x + 60, s.y + s.height / 2 + 5, { steps: 5 });
    await page.mouse.move(t.x + t.width / 2, t.y + Math.min(t.height / 2, 120), { steps: 10 });
    await page.mouse.up();
  } finally {
    if (viewport) await page.setViewportSize(viewport);
  }
};
const row = (i: number, name: string) => pane(i).locator(`[data-testid="file-row"][data-name="${name}"]`);
const goto = async (i: number, path: string) => {
  await pane(i).getByTestId("files-goto").fill(path);
  await pane(i).getByTestId("files-goto").press("Enter");
  await waitFor("pane shows the folder", async () => (await pane(i).getAttribute("data-path")) === path, 10_000, 100);
};

describe("the file explorer in Chromium", () => {
  test("sign in, open the Files tab and browse a folder in the left pane", async () => {
    await rig.signIn();
    await waitFor(
      "online",
      async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
      30_000,
    );
    await page.goto(`${srv.url}/devices/${agent.deviceId}?tab=files`);
    await page.getByTestId("file-pane").first().waitFor();
    expect(await page.getByTestId("files-session").textContent()).toContain("Unprivileged");
    await goto(0, dir);
    await row(0, "report.txt").waitFor({ timeout: 15_000 });
    expect(await row(0, "report.txt").textContent()).toContain("-rw-rw-rw-");
    expect(await row(0, "old").getAttribute("data-type")).toBe("dir");
    // into the folder and back up by its breadcrumb
    await row(0, "old").getByTestId("file-open").click();
    await row(0, "a.log").waitFor();
    await goto(0, dir);
    await goto(1, other);
    await rig.shot("files-dual-pane");
  });

  test("upload by dropping a file on the pane: it arrives on the device's disk and the transfer shows done", async () => {
    const dropped = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["dropped from the desktop\n"], "dropped.txt", { type: "text/plain" }));
      return dt;
    });
    await pane(0).dispatchEvent("dragover", { dataTransfer: dropped });
    await pane(0).dispatchEvent("drop", { dataTransfer: dropped });
    await waitFor("on disk", async () => existsSync(join(dir, "dropped.txt")), 30_000);
    expect(readFileSync(join(dir, "dropped.txt"), "utf8")).toBe("dropped from the desktop\n");
    await page
      .locator(`[data-testid="transfer-row"][data-state="done"][data-path="${join(dir, "dropped.txt")}"]`)
      .waitFor({ timeout: 30_000 });
    await row(0, "dropped.txt").waitFor({ timeout: 15_000 });
  });

  test("rename through the dialog", async () => {
    await row(0, "report.txt").getByTestId("file-rename").click();
    // each pane has its dialogs: the one open is this pane's
    await page.locator('dialog[open] [data-testid="rename-dialog-input"]').fill("renamed.txt");
    await page.locator('dialog[open] [data-testid="rename-dialog-confirm"]').click();
    await row(0, "renamed.txt").waitFor({ timeout: 10_000 });
    expect(existsSync(join(dir, "renamed.txt"))).toBe(true);
    expect(existsSync(join(dir, "report.txt"))).toBe(false);
  });

  test("delete a folder: the confirmation counts what is inside, then it is gone", async () => {
    await row(0, "old").getByTestId("file-delete").click();
    const dialog = page.locator("dialog[open]");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("2 files, 0 folders, 0 links");
    await dialog.getByRole("button", { name: "Delete" }).click();
    await waitFor("gone from disk", async () => !existsSync(join(dir, "old")), 10_000);
    await row(0, "old").waitFor({ state: "detached", timeout: 10_000 });
  });

  test("download a file: the browser saves the device's bytes", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), row(0, "renamed.txt").getByTestId("file-download").click()]);
    expect(download.suggestedFilename()).toBe("renamed.txt");
    expect(readFileSync((await download.path()) as string, "utf8")).toBe("quarterly numbers\n");
  });

  test("properties: chmod unprivileged; elevate with a reason (shown and audited), then chown to another user", async () => {
    // the file must be the worker's (nobody's) to chmod it unprivileged: the dropped upload is
    await row(0, "dropped.txt").getByTestId("file-properties").click();
    const props = page.locator('dialog[open][data-testid="properties-dialog"]');
    await props.waitFor();
    // the properties arrive from the device after the dialog opens
    await waitFor("its properties", async () => ((await props.textContent()) ?? "").includes("dropped.txt"), 10_000, 100);
    expect(await props.textContent()).toContain("nobody");
    await props.getByTestId("props-mode").fill("600");
    await props.getByTestId("props-save").click();
    await waitFor("mode 600", async () => (statSync(join(dir, "dropped.txt")).mode & 0o777) === 0o600, 10_000);
    await props.getByRole("button", { name: "Close" }).click();

    await page.getByTestId("files-elevate").click();
    await page.locator('dialog[open] [data-testid="elevate-dialog-input"]').fill("ticket 4711: hand the report to root");
    await page.locator('dialog[open] [data-testid="elevate-dialog-confirm"]').click();
    await waitFor("elevated", async () => (await page.getByTestId("files-session").getAttribute("data-elevated")) === "true", 10_000);
    expect(await page.getByTestId("files-session").textContent()).toContain("ticket 4711");
    await waitFor("listed as root", async () => ((await pane(0).textContent()) ?? "").includes("as root"), 10_000, 100);
    await row(0, "renamed.txt").getByTestId("file-properties").click();
    await props.waitFor();
    await waitFor("its properties", async () => ((await props.textContent()) ?? "").includes("renamed.txt"), 10_000, 100);
    await props.getByTestId("props-owner").fill("nobody");
    await props.getByTestId("props-save").click();
    await waitFor("owned by nobody", async () => statSync(join(dir, "renamed.txt")).uid === 65534, 10_000);
    await props.getByRole("button", { name: "Close" }).click();
    const [audit] = await srv.sql<{ details: { reason: string } }[]>`select details from audit_log where action = 'file.elevate'`;
    expect(audit?.details.reason).toBe("ticket 4711: hand the report to root");
    const [chown] = await srv.sql<
      { details: { elevated: boolean; outcome: string } }[]
    >`select details from audit_log where action = 'file.chown'`;
    expect(chown?.details).toMatchObject({ elevated: true, outcome: "ok" });
    await rig.shot("files-elevated");
  });

  test("two devices side by side: a row dragged from this device's pane to another device's is copied there through the server", async () => {
    const second = await enrollRealAgent(srv, ["env=browser-files-second"]);
    second.start();
    try {
      await waitFor(
        "second online",
        async () => (await srv.sql`select status from devices where id = ${second.deviceId}`)[0]?.status === "online",
        60_000,
      );
      await page.getByTestId("files-right-device").focus();
      await waitFor("listed", async () => (await page.getByTestId("files-right-device").locator("option").count()) > 1, 10_000, 100);
      await page.getByTestId("files-right-device").selectOption(second.deviceId);
      await goto(1, other);
      await drag(row(0, "dropped.txt"), pane(1).locator(".files-list"));
      await waitFor("sent to the other device", async () => existsSync(join(other, "dropped.txt")), 60_000);
      expect(readFileSync(join(other, "dropped.txt"), "utf8")).toBe("dropped from the desktop\n");
      await row(1, "dropped.txt").waitFor({ timeout: 15_000 });
      const [audit] = await srv.sql<{ details: { toDeviceId: string } }[]>`select details from audit_log where action = 'file.send'`;
      expect(audit?.details.toDeviceId).toBe(second.deviceId);
      await rig.shot("files-two-devices");
      await page.getByTestId("files-right-device").selectOption(agent.deviceId);
      await goto(1, other);
    } finally {
      await second.stop();
    }
  });

  test("drag a row from the left pane to the right one: copied on the device", async () => {
    await drag(row(0, "renamed.txt"), pane(1).locator(".files-list"));
    await waitFor("copied", async () => existsSync(join(other, "renamed.txt")), 10_000);
    expect(readFileSync(join(other, "renamed.txt"), "utf8")).toBe("quarterly numbers\n");
    await row(1, "renamed.txt").waitFor({ timeout: 10_000 });
    await rig.shot("files-after-copy");
  });
});
