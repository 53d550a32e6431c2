/**
 * Alert rule evaluation cost: 50 enabled rules and 10,000 devices in one organization, samples fed
 * to the RuleEvaluator as the ingest path does after a commit. A third of the rules are
 * organization-wide, a third scoped to a tag every device carries, a third held by a policy attached
 * to the organization, so every rule applies to every sample. Mostly quiet samples (no state
 * changes, the common case), plus a run where a tenth of the devices cross a threshold.
 *
 *   bun scripts/bench-rules.ts --devices 10000 --rules 50 --samples 100000
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { migrate } from "../db/migrate.ts";
import { LiveHub } from "../server/live/hub.ts";
import { LocalBus } from "../server/events/bus.ts";
import { insertAssignment, insertPolicy } from "../server/policies/store.ts";
import { RuleEvaluator } from "../server/rules/evaluator.ts";
import { type Metric, insertRule } from "../server/rules/store.ts";
import { summarize } from "../server/telemetry/rows.ts";
import { sample } from "../server/testing/fixtures.ts";

const { values: opt } = parseArgs({
  options: {
    devices: { type: "string", default: "10000" },
    rules: { type: "string", default: "50" },
    samples: { type: "string", default: "100000" },
  },
});
const dir = mkdtempSync(join(tmpdir(), "sentpulse-rules-"));
const pg = await startEmbeddedPostgres(dir);
const sql = postgres(pg.url, { max: 5, onnotice: () => {} });
try {
  await migrate(sql);
  const [org] = await sql<{ id: string }[]>`insert into organizations (name) values ('bench') returning id`;
  const [client] = await sql<{ id: string }[]>`insert into clients (organization_id, name) values (${org!.id}, 'c') returning id`;
  const [site] = await sql<
    { id: string }[]
  >`insert into sites (organization_id, client_id, name) values (${org!.id}, ${client!.id}, 's') returning id`;
  const devices = Array.from({ length: Number(opt.devices) }, () => Bun.randomUUIDv7());
  await sql`insert into devices (id, organization_id, site_id, hostname, os, secret_hash, tags)
            select id, ${org!.id}, ${site!.id}, 'h', 'linux', '\\x00', '{env=prod}' from unnest(${devices}::uuid[]) as id`;
  const metrics: Metric[] = ["cpu_percent", "memory_percent", "swap_percent", "disk_free_percent", "load1"];
  const policyId = await insertPolicy(sql, org!.id, { name: "bench", description: "", enabled: true });
  await insertAssignment(sql, org!.id, { policyId, type: "organization", id: null, enforced: false });
  for (let i = 0; i < Number(opt.rules); i++) {
    const metric = metrics[i % metrics.length]!;
    await insertRule(sql, org!.id, {
      name: `rule ${i}`,
      metric,
      operator: metric === "disk_free_percent" ? "<" : ">",
      threshold: metric === "disk_free_percent" ? 5 : metric === "load1" ? 50 : 95 + (i % 5),
      durationSeconds: 300,
      severity: "warning",
      scope: i % 3 === 0 ? { type: "organization" } : i % 3 === 1 ? { type: "tag", tag: "env=prod" } : { type: "policy", id: policyId },
    });
  }
  const evaluator = new RuleEvaluator(sql, new LiveHub(() => {}), new LocalBus());
  await evaluator.start();
  const run = async (label: string, cpuFor: (i: number) => number) => {
    const n = Number(opt.samples);
    const now = Date.now();
    const batch = 500;
    evaluator.stats.samples = 0;
    evaluator.stats.checks = 0;
    evaluator.stats.ms = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i += batch) {
      const stored = [];
      for (let j = i; j < Math.min(n, i + batch); j++) {
        const s = sample(new Date(now - (n - j)), cpuFor(j));
        stored.push({ deviceId: devices[j % devices.length]!, organizationId: org!.id, sample: s, summary: summarize(s) });
      }
      evaluator.submit(stored);
    }
    await evaluator.idle();
    const wall = performance.now() - t0;
    console.log(
      JSON.stringify({
        run: label,
        samples: evaluator.stats.samples,
        ruleChecks: evaluator.stats.checks,
        microsecondsPerSample: Number(((evaluator.stats.ms / evaluator.stats.samples) * 1000).toFixed(2)),
        wallMicrosecondsPerSample: Number(((wall / n) * 1000).toFixed(2)),
      }),
    );
  };
  await run("warm-up", () => 10);
  await run("quiet (no thresholds crossed)", () => 10);
  await run("a tenth of the devices above 99 % CPU (pending transitions written)", (j) => ((j % devices.length) % 10 === 0 ? 99.5 : 10));
} finally {
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
