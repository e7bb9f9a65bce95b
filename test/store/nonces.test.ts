import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/open.ts";
import { NONCE_FILE, SQLITE_FILE } from "../../src/store/sqlite/sqlite-store.ts";

test("SQLite keeps nonces in their own file: a nonce is no change of the tag data", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tagd-nonces-"));
  const store = await openStore({ dataDir });
  try {
    await store.migrate();
    const watcher = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
    const version = () => watcher.pragma("data_version", { simple: true });
    const before = version();
    assert.equal(await store.rememberNonce("LTAIkey", "n-1", Date.now() + 60_000, Date.now()), true);
    assert.equal(await store.rememberNonce("LTAIkey", "n-1", Date.now() + 60_000, Date.now()), false);
    // Readers' caches of the tag data are kept by data_version: it must not move.
    assert.equal(version(), before);
    watcher.close();
    // A second store on the same directory (another process, another instance) sees the nonce.
    const other = await openStore({ dataDir });
    assert.equal(await other.rememberNonce("LTAIkey", "n-1", Date.now() + 60_000, Date.now()), false);
    await other.close();
    const nonces = new Database(join(dataDir, NONCE_FILE), { readonly: true });
    assert.equal((nonces.prepare("SELECT COUNT(*) AS n FROM nonces").get() as { n: number }).n, 1);
    nonces.close();
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
