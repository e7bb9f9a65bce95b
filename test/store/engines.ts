import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import type { TagStore } from "../../src/store/store.ts";

/** An engine the storage contract runs against: a fresh, migrated store per call. */
export interface EngineUnderTest {
  name: string;
  /** Why this engine is skipped here, if it is. */
  skip?: string;
  open(): Promise<{ store: TagStore; dispose(): Promise<void> }>;
}

export const ENGINES: EngineUnderTest[] = [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "tagd-store-"));
      const store = openSqliteStore(dir);
      await store.migrate();
      return {
        store,
        async dispose() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
