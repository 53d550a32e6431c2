import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import type { EnrolledAgent } from "../../server/testing/agents.ts";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { type TestServer, waitFor } from "../../server/testing/harness.ts";

/**
 * Remote control in the dashboard (Chromium, playwright-core) against the real server and the real
 * compiled agent: the xterm.js terminal, a library script run from the "Run script" dialog with
 * its output arriving live, and the script editor. Needs web/dist (scripts/test builds it first).
 */
let rig: BrowserRig;
let srv: TestServer;
let agent: EnrolledAgent;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig("browser-remote");
  ({ srv, agent, page } = rig);
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(() => rig?.stop());

const terminalText = () =>
  page
    .locator('[data-testid="terminal"] .xterm-rows')
    .textContent()
    .then((t) => t ?? "");

describe("remote control in Chromium", () => {
  test("sign in and wait for the agent to be online", async () => {
    await rig.signIn();
    await page.getByTestId("device-row").first().waitFor({ timeout: 30_000 });
    await waitFor(
      "online badge",
      async () => (await page.getByTestId("device-status").first().getAttribute("data-status")) === "online",
      30_000,
    );
  });

  test("the terminal opens from the device page and runs a command", async () => {
    await page.getByTestId("device-link").first().click();
    await page.getByTestId("terminal-open").click();
    await page.waitForURL((u) => u.pathname === `/devices/${agent.deviceId}/terminal`);
    await page.locator('[data-testid="terminal"] .xterm-rows').waitFor({ timeout: 15_000 });
    await waitFor("terminal open", async () => (await page.getByTestId("terminal-status").getAttribute("data-state")) === "open", 20_000);
    // Give the shell a moment to print its prompt, then type into xterm's hidden textarea.
    await page.getByTestId("terminal").click();
    await page.waitForTimeout(500);
    await page.keyboard.type("echo hi-$((40+2))");
    await page.keyboard.press("Enter");
    await waitFor("hi-42 in the terminal", async () => (await terminalText()).includes("hi-42"), 20_000, 250);
    expect(await terminalText()).toContain("echo hi-$((40+2))");
    await rig.shot("terminal");
  });

  test("a library script runs from the Run script dialog with live output", async () => {
    const res = await srv.api("/api/v1/scripts", {
      body: {
        name: "count-up",
        description: "prints three lines, a second apart",
        language: "sh",
        content: 'for i in 1 2 3; do echo "line-$i $1"; sleep 1; done',
        defaultArgs: ["from-library"],
        timeoutSeconds: 60,
      },
    });
    expect(res.status).toBe(201);
    const script = (await res.json()) as { id: string };
    await page.goto(`${srv.url}/devices/${agent.deviceId}`);
    await page.getByTestId("run-script-open").click();
    const select = page.getByTestId("run-script-select");
    await select.waitFor();
    await waitFor("script listed", async () => (await select.locator(`option[value="${script.id}"]`).count()) === 1, 10_000);
    await select.selectOption(script.id);
    await page.getByTestId("run-script-submit").click();
    const output = page.getByTestId("command-output");
    await output.waitFor();
    // The first line shows up while the script is still running: output is live, not only at the end.
    await waitFor("first line", async () => (await output.textContent())?.includes("line-1 from-library") ?? false, 20_000, 100);
    const statusEarly = await page.getByTestId("command-status").getAttribute("data-status");
    await waitFor(
      "succeeded",
      async () => (await page.getByTestId("command-status").getAttribute("data-status")) === "succeeded",
      30_000,
      200,
    );
    expect(statusEarly).not.toBe("queued");
    expect(await output.textContent()).toBe("line-1 from-library\nline-2 from-library\nline-3 from-library\n");
    expect(await page.getByTestId("command-exit").textContent()).toContain("0");
    await rig.shot("run-script");
    // The command is in the device's history.
    await page.keyboard.press("Escape");
    await page.getByTestId("command-row").first().waitFor({ timeout: 10_000 });
    await waitFor(
      "history shows succeeded",
      async () => (await page.getByTestId("command-row").first().getAttribute("data-status")) === "succeeded",
      10_000,
    );
  });

  test("the Scripts page lists the script and runs it on picked devices", async () => {
    await page.getByRole("link", { name: "Scripts" }).click();
    const row = page.getByTestId("script-row").filter({ hasText: "count-up" });
    await row.waitFor();
    await row.getByTestId("script-run").click();
    await page.getByTestId("run-on-device").first().check();
    await page.getByTestId("run-on-submit").click();
    const result = page.getByTestId("run-result").first();
    await result.waitFor();
    await waitFor("run succeeded", async () => (await result.getAttribute("data-status")) === "succeeded", 30_000, 200);
    // the whole output is read back once the command is final: it may show a moment after the status
    await result.filter({ hasText: "line-3 from-library" }).waitFor({ timeout: 10_000 });
    await rig.shot("scripts");
  });

  test("a script written in the editor (Tab indents) is saved to the library", async () => {
    await page.getByTestId("script-new").click();
    await page.getByTestId("script-name").fill("disk report");
    const editor = page.getByTestId("script-content");
    await editor.click();
    await page.keyboard.type("if true; then");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await page.keyboard.type("df -h /");
    await page.keyboard.press("Enter");
    await page.keyboard.type("fi");
    await page.getByTestId("script-save").click();
    await page.getByTestId("script-row").filter({ hasText: "disk report" }).waitFor();
    const { items } = (await (await srv.api("/api/v1/scripts")).json()) as { items: { name: string; content: string }[] };
    expect(items.find((x) => x.name === "disk report")?.content).toBe("if true; then\n  df -h /\nfi");
  });
});
