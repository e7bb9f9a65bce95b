import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { GetResourcesCommand, TagResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import Database from "better-sqlite3";
import { SQLITE_FILE } from "../../src/store/sqlite/sqlite-store.ts";
import { WAL_BUFFER_LIBRARY, walBufferState } from "../../src/store/sqlite/wal-buffer.ts";
import { ec2Arn, spawnInstance, testConfig } from "../helpers.ts";
import { ec2, withSqliteStore } from "./engines.ts";

/** `npm ci` builds the extension with the machine's C compiler; without one tagd runs without it. */
const NO_COMPILER =
  spawnSync(process.env.CC || "cc", ["--version"]).status === 0
    ? undefined
    : "no C compiler (cc): npm ci could not build the WAL buffer, and tagd runs without it";

/** Write system calls made by this process's main thread (the checkpointer thread counts its own). */
function mainThreadWrites(): number {
  const io = readFileSync(`/proc/self/task/${process.pid}/io`, "utf8");
  return Number(/^syscw:\s*(\d+)/m.exec(io)?.[1]);
}

test("a SQLite commit's WAL frames go out in a few writes, not two system calls per page (sqlite)", {
  skip: process.platform === "linux" ? NO_COMPILER : "per-thread write counts are Linux's",
}, async () => {
  await withSqliteStore(async ({ store }) => {
    assert.deepEqual(walBufferState(), { active: true, library: WAL_BUFFER_LIBRARY });
    await store.upsertResources(
      Array.from({ length: 40 }, (_, i) => ({
        resource: ec2(`i-wal${i}`),
        tags: [{ key: "env", value: "prod" }],
      })),
    );
    const before = mainThreadWrites();
    const commits = 40;
    for (let i = 0; i < commits; i++) {
      // One resource at a time, so one transaction each: its row, the tag tree, the key counters and
      // the revision, 4-6 pages, each a frame of the WAL.
      const [result] = await store.applyTagChanges("111111111111", [
        {
          resource: ec2(`i-wal${i}`),
          register: false,
          set: Array.from({ length: 5 }, (_, k) => ({ key: `k${k}`, value: `v${i}-${k}` })),
          remove: [],
        },
      ]);
      assert.equal(result?.ok, true);
    }
    const perCommit = (mainThreadWrites() - before) / commits;
    // Without the buffer: a header and a page per frame, ~9 calls a commit here (9.0-9.2 measured).
    assert.ok(perCommit <= 4, `${perCommit} write calls per commit`);
  });
});

test("TagResources that tagd acknowledged survive its process being killed (sqlite)", {
  skip: NO_COMPILER,
  timeout: 60_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tagd-walbuf-"));
  const writers = 8;
  const arnsPerWriter = 5;
  // Each ARN has one writer, which sends its calls one after another: what a read finds afterwards
  // is at least the last acknowledged value, and at most the last one sent.
  const acknowledged = new Map<string, number>();
  const sent = new Map<string, number>();
  try {
    const tagd = await spawnInstance({ config: testConfig(), dataDir });
    assert.match(tagd.output(), /SQLite WAL buffer loaded/);
    const client = tagd.tagging();
    let stopped = false;
    let acks = 0;
    const writer = async (w: number) => {
      for (let n = 0; !stopped; n++) {
        const arn = ec2Arn(`i-crash${w}x${n % arnsPerWriter}`);
        sent.set(arn, n);
        try {
          await client.send(new TagResourcesCommand({ ResourceARNList: [arn], Tags: { seq: String(n) } }));
        } catch {
          return; // the process is gone
        }
        acknowledged.set(arn, n);
        acks++;
      }
    };
    const running = Array.from({ length: writers }, (_, w) => writer(w));
    while (acks < 400) await new Promise((resolve) => setTimeout(resolve, 5));
    tagd.process.kill("SIGKILL");
    stopped = true;
    await Promise.all(running);

    const again = await spawnInstance({ config: testConfig(), dataDir });
    try {
      const found = await again
        .tagging()
        .send(new GetResourcesCommand({ ResourceARNList: [...acknowledged.keys()] }));
      const seq = new Map(
        (found.ResourceTagMappingList ?? []).map((m) => [
          m.ResourceARN,
          Number(m.Tags?.find((t) => t.Key === "seq")?.Value),
        ]),
      );
      assert.equal(acknowledged.size, writers * arnsPerWriter);
      for (const [arn, n] of acknowledged) {
        const stored = seq.get(arn);
        assert.ok(
          stored !== undefined && stored >= n && stored <= (sent.get(arn) ?? n),
          `${arn}: acknowledged seq ${n}, last sent ${sent.get(arn)}, stored ${stored}`,
        );
      }
    } finally {
      await again.stop();
    }
    const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    } finally {
      db.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
