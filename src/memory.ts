import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
/**
 * V8 allocates objects from an allocation site straight into the old generation once most of them
 * have survived young collections ("pretenuring"). A large bulk import teaches it that of sites the
 * request pipeline shares (their objects live through a whole 10,000-resource call), and the decision
 * stays: after a 1M import every later request's short-lived objects were promoted, ~2 MB per young
 * collection, which took 8–9 ms instead of ~1, and a full collection followed every ~2 s; GetTagKeys
 * spent 12% of its time collecting against 2% at 10k (V8's --trace-gc and CPU profiles). Without the
 * feedback a young collection copies what survives instead, which costs little at tagd's sizes; the
 * 1M import took as long (75.7 / 80.1 s with it, 75.8 s without, alternating runs).
 */
setFlagsFromString("--no-allocation-site-pretenuring");
/** V8's full collector, reached through a fresh context once `--expose-gc` is set (none if not). */
const exposed: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined");
const fullCollection = typeof exposed === "function" ? (exposed as () => void) : undefined;

/** Calls of at least this many resources are followed by a collection. */
const BULK_COLLECT_MIN = 1000;

/**
 * A bulk admin call allocates tens of megabytes (the parsed body, its validated and resolved forms,
 * the rows) that are garbage once it has answered. V8 lets such garbage pile up to several times the
 * live heap before it collects (seen during a 100,000-resource import: 37 MB live, 184 MB in use),
 * and that pile was most of tagd's peak RSS. So a large call is followed, once its answer is on its
 * way, by one full collection (~25 ms with a heap of that size).
 */
export function collectAfterBulk(resources: number): void {
  if (resources < BULK_COLLECT_MIN || !fullCollection) return;
  setImmediate(fullCollection);
}
