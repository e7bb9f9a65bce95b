import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
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
