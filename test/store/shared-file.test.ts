import assert from "node:assert/strict";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { NONCE_FILE, SQLITE_FILE, SqliteExec } from "../../src/store/sqlite/sqlite-store.ts";
import { ec2, withSqliteStore } from "./engines.ts";

/**
 * One SQLite file, several processes (`--workers`, or tagd processes on one data directory): while
 * another holds the write lock, a store waits off the event loop, and a cached read never answers
 * from before a commit it could have seen. The other process is played by a plain connection here.
 */

/** Holds `file`'s write lock from another connection until the returned function is called. */
function holdWriteLock(file: string): { release(): void } {
  const other = new Database(file);
  other.exec("BEGIN IMMEDIATE");
  return {
    release() {
      other.exec("COMMIT");
      other.close();
    },
  };
}

const tag = (key: string, value: string) => ({ key, value });

test("a tag write waits for another process's write lock without stopping the event loop", async () => {
  await withSqliteStore(async ({ dataDir, store }) => {
    const lock = holdWriteLock(join(dataDir, SQLITE_FILE));
    // Released by a timer: SQLite's own busy wait would hold this thread until its timeout (10 s)
    // and then fail with SQLITE_BUSY, the timer never having run.
    const started = Date.now();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    setTimeout(() => lock.release(), 150);
    const [result] = await store.applyTagChanges("111111111111", [
      { resource: ec2("i-wait"), register: true, set: [tag("env", "prod")], remove: [] },
    ]);
    clearInterval(ticker);
    assert.equal(result?.ok, true);
    const waited = Date.now() - started;
    assert.ok(waited >= 140 && waited < 5000, `waited ${waited} ms`);
    assert.ok(ticks >= 10, `the event loop ran meanwhile (${ticks} ticks)`);
    const found = await store.getResources("111111111111", [ec2("i-wait").name]);
    assert.ok(found.has(ec2("i-wait").name));
  });
});

test("an import and a nonce wait for the other process's lock the same way", async () => {
  await withSqliteStore(async ({ dataDir, store }) => {
    const data = holdWriteLock(join(dataDir, SQLITE_FILE));
    await store.rememberNonce("LTAIkey", "n-0", Date.now() + 60_000, Date.now()); // creates the file
    const nonces = holdWriteLock(join(dataDir, NONCE_FILE));
    setTimeout(() => data.release(), 100);
    setTimeout(() => nonces.release(), 100);
    const [imported, fresh] = await Promise.all([
      store.upsertResources([{ resource: ec2("i-import"), tags: [tag("team", "web")] }]),
      store.rememberNonce("LTAIkey", "n-1", Date.now() + 60_000, Date.now()),
    ]);
    assert.deepEqual(imported, { created: 1, updated: 0, tags: 1 });
    assert.equal(fresh, true);
  });
});

/** A connected pair of sockets: what one writes, the other reads in the next poll phase. */
async function socketPair(): Promise<{ client: Socket; server: Socket; close(): void }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
  const client = connect((listener.address() as AddressInfo).port, "127.0.0.1");
  await new Promise((resolve) => client.once("connect", resolve));
  const server = await accepted;
  return {
    client,
    server,
    close() {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

/** A read in the check phase of the event loop (after a group commit, say), then one after new I/O. */
async function readAcrossPhases(reader: SqliteExec, other: Database.Database, key: string) {
  const read = async () =>
    (await reader.column<string>("SELECT value FROM meta WHERE key = ?", [key]))[0] ?? "none";
  const pair = await socketPair();
  try {
    await new Promise((resolve) => setImmediate(resolve));
    const before = await read();
    // Another process commits and acknowledges; the next request arrives as I/O, in the poll phase
    // that follows (before this turn's setImmediate callbacks run again). A look at the version
    // taken before it would answer from before the commit.
    other.prepare("INSERT INTO meta (key, value) VALUES (?, 'new')").run(key);
    const request = new Promise((resolve) => pair.server.once("data", resolve));
    pair.client.write("GET");
    await request;
    return { before, after: await read() };
  } finally {
    pair.close();
  }
}

test("under --workers a cached read sees another process's commit that landed before the I/O that asked for it", async () => {
  await withSqliteStore(async ({ dataDir }) => {
    const reader = new SqliteExec(new Database(join(dataDir, SQLITE_FILE))).cacheResults({
      sharedFile: true,
    });
    const other = new Database(join(dataDir, SQLITE_FILE));
    assert.deepEqual(await readAcrossPhases(reader, other, "shared"), { before: "none", after: "new" });
    other.close();
  });
});

test("a store that finds another process writing its file reads as under --workers from then on", async () => {
  await withSqliteStore(async ({ dataDir, store }) => {
    const reader = new SqliteExec(new Database(join(dataDir, SQLITE_FILE))).cacheResults();
    const other = new Database(join(dataDir, SQLITE_FILE));
    const count = async () => (await reader.column<number>("SELECT COUNT(*) FROM meta", []))[0];
    // This process's own commits are not another writer.
    const first = await count();
    await store.getOrSetMeta("local-1", "x");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await count(), (first as number) + 1);
    // Another process's commit, seen at the next turn, tells it the file is shared.
    other.prepare("INSERT INTO meta (key, value) VALUES ('foreign-1', 'x')").run();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await count(), (first as number) + 2);
    assert.deepEqual(await readAcrossPhases(reader, other, "foreign-2"), { before: "none", after: "new" });
    other.close();
  });
});

test("an idle job poll does not wait for another process's write lock", async () => {
  await withSqliteStore(async ({ dataDir, store }) => {
    const lock = holdWriteLock(join(dataDir, SQLITE_FILE));
    try {
      // Nothing to claim: the poll is a read, answered at once. Asking for the lock instead would
      // sit in SQLite's busy wait on this thread until its timeout.
      const started = Date.now();
      const claimed = await store.jobs.claim("report", "worker-1", Date.now(), 60_000);
      assert.equal(claimed, undefined);
      assert.ok(Date.now() - started < 1000, `polled for ${Date.now() - started} ms`);
    } finally {
      lock.release();
    }
    // With a job waiting, the claim still takes it once the lock is free.
    await store.jobs.enqueue({
      accountId: "111111111111",
      id: "job-1",
      kind: "report",
      payload: "{}",
      now: 1,
    });
    const claimed = await store.jobs.claim("report", "worker-1", Date.now(), 60_000);
    assert.equal(claimed?.id, "job-1");
    assert.equal(claimed?.state, "running");
  });
});
