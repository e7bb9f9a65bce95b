/**
 * The store alone, in process, timed by the main thread's CPU time (robust when other work shares the
 * machine): the bulk import of N resources in calls of 10,000, then group-committed TagResources-like
 * changes (1 resource, 5 fresh values) in batches of 16. `tsx bench/store-micro.ts [N] [repo root]`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { arnAt, importEntry, mix32, prng } from "./inventory.ts";

const n = Number(process.argv[2] ?? 100_000);
const root = resolve(process.argv[3] ?? ".");
const { openStore } = await import(pathToFileURL(join(root, "src/store/open.ts")).href);
const { resolveImport } = await import(pathToFileURL(join(root, "src/domain/inventory.ts")).href);
const { resolveResourceInput } = await import(pathToFileURL(join(root, "src/domain/inventory.ts")).href);

const dataDir = mkdtempSync(join(tmpdir(), "tagd-micro-"));
const store = await openStore({ dataDir });
await store.migrate();
/** CPU seconds of the main thread alone (Linux): helper threads of the store are not counted. */
const cpu = () => {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
// Only the store's calls are timed: building a call's entries here (~15 s of CPU at a million) is the
// benchmark's work, not the store's.
let storeCpu = 0;
let storeWall = 0;
let buildCpu = 0;
for (let start = 0; start < n; start += 10_000) {
  const b0 = cpu();
  const items = [];
  for (let i = start; i < Math.min(n, start + 10_000); i++) items.push(resolveImport(importEntry(i)));
  const c = cpu();
  const w = performance.now();
  buildCpu += c - b0;
  await store.upsertResources(items);
  storeCpu += cpu() - c;
  storeWall += performance.now() - w;
}
console.log(
  `import ${n}: cpu ${storeCpu.toFixed(2)} s, wall ${(storeWall / 1000).toFixed(2)} s (building the calls: ${buildCpu.toFixed(2)} s of cpu, not counted)`,
);

const rounds = Number(process.env.MICRO_ROUNDS ?? 400);
const batch = Number(process.env.MICRO_BATCH ?? 16);
const c0 = cpu();
const w0 = performance.now();
for (let r = 0; r < rounds; r++) {
  const calls = [];
  for (let b = 0; b < batch; b++) {
    const rnd = prng(mix32(r * batch + b) ^ 0x5eed);
    const resource = resolveResourceInput({
      arn: arnAt(Math.floor(rnd() * n)),
      region: "us-east-1",
      accountId: "123456789012",
    });
    const set = [1, 2, 3, 4, 5].map((k) => ({
      key: `bench-k${k}`,
      value: `v-${Math.floor(rnd() * 1e9).toString(36)}`,
    }));
    calls.push(store.applyTagChanges(resource.accountId, [{ resource, register: true, set, remove: [] }]));
  }
  await Promise.all(calls);
}
const per = ((cpu() - c0) / (rounds * batch)) * 1e6;
console.log(
  `tag 1 ARN x5 tags: cpu ${per.toFixed(0)} µs per change, wall ${(((performance.now() - w0) / (rounds * batch)) * 1000).toFixed(0)} µs`,
);
await store.close();
rmSync(dataDir, { recursive: true, force: true });
