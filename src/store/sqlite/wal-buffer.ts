import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

/**
 * The WAL buffer: native/walbuf.c, a SQLite extension built by `npm ci` (scripts/build-wal-buffer.mjs)
 * that gathers the frames of a commit into a few large writes to the WAL instead of two system calls
 * per page. In the store alone at 100k (`npx tsx bench/store-micro.ts 100000`), a TagResources-like
 * change took 88–94 µs of CPU with it against 119–129 without, and the import 3.3–3.5 s against
 * 3.6–5.0 (three alternating pairs).
 *
 * SQLite's VFS is the process's: loaded once, the extension is the default for every connection
 * opened after it, in every thread, and stays until the process ends.
 */
export type WalBufferState = { active: true; library: string } | { active: false; reason: string };

export const WAL_BUFFER_LIBRARY = fileURLToPath(
  new URL(`../../../native/build/walbuf.${process.platform === "darwin" ? "dylib" : "so"}`, import.meta.url),
);

let state: WalBufferState | undefined;

/** Loads the extension if it was built and is not loaded yet; what happened, for the start-up log. */
export function useWalBuffer(): WalBufferState {
  if (state) return state;
  if (!existsSync(WAL_BUFFER_LIBRARY)) {
    state = {
      active: false,
      reason: `${WAL_BUFFER_LIBRARY} was not built: npm ci builds it with a C compiler`,
    };
    return state;
  }
  const loader = new Database(":memory:");
  try {
    // Entry point from the file name: sqlite3_walbuf_init.
    loader.loadExtension(WAL_BUFFER_LIBRARY);
    state = { active: true, library: WAL_BUFFER_LIBRARY };
  } catch (err) {
    state = { active: false, reason: `${WAL_BUFFER_LIBRARY} did not load: ${(err as Error).message}` };
  } finally {
    loader.close();
  }
  return state;
}

/** Whether this process has loaded the extension (undefined: not asked yet). */
export function walBufferState(): WalBufferState | undefined {
  return state;
}
