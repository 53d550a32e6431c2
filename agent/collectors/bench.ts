import { createLinuxCollector } from "../platform/linux-collector.ts";

/** Times 1,000 Linux collections back to back and prints the mean milliseconds per collection. */
const RUNS = 1_000;
const collector = createLinuxCollector();
await collector.collect();
const started = performance.now();
for (let i = 0; i < RUNS; i++) await collector.collect();
const meanMs = (performance.now() - started) / RUNS;
console.log(`linux collector: ${meanMs.toFixed(3)} ms per collection (mean of ${RUNS})`);
