/**
 * How fast the 1M import could be with another SQLite schema: a model of the store's import written
 * straight on better-sqlite3 (no HTTP, no Kysely, no counters or compliance), run over the benchmark's
 * inventory once per schema variant, timed by the main thread's CPU. It bounds what a schema change
 * can gain; the real store's figure is `bench/store-micro.ts`.
 *
 *   tsx bench/import-bounds.ts [N] [variant,…]
 *
 * Variants (combine with "+"):
 *   today          tagd's schema: UNIQUE (account_id, name), tags keyed (account_id, region, key, value, rid)
 *   hash-name      the name index replaced by a non-unique index on a 53-bit hash of the name
 *                  (lookups by hash, the name compared after; uniqueness left to the writer; not led by
 *                  the account as a real one would be, so the bound is if anything generous)
 *   scope-int      the tag tree keyed by an integer (account, region) scope instead of its two strings
 *   no-name-index  no index on the name and no lookup of existing rows: a floor, not a design
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { resolveImport } from "../src/domain/inventory.ts";
import {
  encodeTags,
  RESOURCE_COLUMN_COUNT,
  RESOURCE_COLUMNS,
  resourceValues,
} from "../src/store/sql/rows.ts";
import { marks, rowMarks } from "../src/store/sql/text.ts";
import type { ResourceImport } from "../src/store/store.ts";
import { importEntry } from "./inventory.ts";

const n = Number(process.argv[2] ?? 1_000_000);
const ALL = "today,hash-name,scope-int,hash-name+scope-int,no-name-index,no-name-index+scope-int";
const variants = (process.argv[3] ?? ALL).split(",");
const CALL = 10_000;
const CHUNK = 500;
/** The writer connection's page cache, as in tagd (16 MiB), unless BOUNDS_CACHE_KIB says otherwise. */
const CACHE_KIB = Number(process.env.BOUNDS_CACHE_KIB ?? 16_384);

/** CPU seconds of the main thread alone (Linux). */
function threadCpu(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Two 32-bit FNV-style lanes folded into 53 bits: an integer JavaScript and SQLite hold exactly. */
function nameHash(accountId: string, name: string): number {
  let a = 0x811c9dc5;
  let b = 0x1b873593;
  const text = `${accountId}\u0000${name}`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 2246822519);
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) & 0x1fffff);
}

function run(variant: string): { cpu: number; frames: number } {
  const parts = new Set(variant.split("+"));
  for (const p of parts)
    if (!["today", "hash-name", "scope-int", "no-name-index"].includes(p))
      throw new Error(`unknown variant ${p}`);
  const hashName = parts.has("hash-name");
  const scopeInt = parts.has("scope-int");
  const noName = parts.has("no-name-index");
  const dir = mkdtempSync(join(tmpdir(), "tagd-bounds-"));
  const db = new Database(join(dir, "bounds.db"));
  try {
    // The writer connection's settings in tagd (sqlite-store.ts); the WAL is copied back after each
    // call, outside the timing, as tagd's checkpointer thread does.
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma(`cache_size = -${CACHE_KIB}`);
    db.pragma("wal_autocheckpoint = 0");
    const unique = hashName || noName ? "" : ", UNIQUE (account_id, name)";
    db.exec(`CREATE TABLE resources (rid INTEGER PRIMARY KEY, account_id TEXT NOT NULL, cloud TEXT NOT NULL,
      region TEXT NOT NULL, partition TEXT NOT NULL, service TEXT NOT NULL, resource_type TEXT NOT NULL,
      resource_id TEXT NOT NULL, name TEXT NOT NULL, resource_group_id TEXT, state TEXT,
      tagged INTEGER NOT NULL, tag_count INTEGER NOT NULL, tags_json TEXT NOT NULL, name_hash INTEGER${unique})`);
    if (hashName) db.exec("CREATE INDEX resources_by_hash ON resources (name_hash)");
    db.exec("CREATE INDEX resources_listing ON resources (account_id, region, tagged, rid)");
    db.exec(`CREATE INDEX resources_by_group ON resources (account_id, region, resource_group_id, rid)
      WHERE resource_group_id IS NOT NULL`);
    db.exec(
      scopeInt
        ? `CREATE TABLE tags (scope INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL,
             PRIMARY KEY (scope, key, value, rid)) WITHOUT ROWID`
        : `CREATE TABLE tags (account_id TEXT NOT NULL, region TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
             rid INTEGER NOT NULL, PRIMARY KEY (account_id, region, key, value, rid)) WITHOUT ROWID`,
    );
    const names = marks(CHUNK);
    const existing = noName
      ? undefined
      : db.prepare(
          hashName
            ? `SELECT account_id, name, tags_json FROM resources WHERE name_hash IN (${names})`
            : `SELECT account_id, name, tags_json FROM resources WHERE account_id = ? AND name IN (${names})`,
        );
    const conflict =
      hashName || noName ? "" : "ON CONFLICT (account_id, name) DO UPDATE SET tags_json = excluded.tags_json";
    const upsert =
      db.prepare(`INSERT INTO resources (${RESOURCE_COLUMNS}, tagged, tag_count, tags_json, name_hash)
      VALUES ${rowMarks(CHUNK, RESOURCE_COLUMN_COUNT + 4)} ${conflict} RETURNING rid, name, region`);
    const tagInsert = db.prepare(
      scopeInt
        ? "INSERT INTO tags VALUES (?,?,?,?) ON CONFLICT DO NOTHING"
        : "INSERT INTO tags VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
    );
    let cpu = 0;
    let frames = 0;
    for (let start = 0; start < n; start += CALL) {
      const items: ResourceImport[] = [];
      for (let i = start; i < Math.min(n, start + CALL); i++) items.push(resolveImport(importEntry(i)));
      const t0 = threadCpu();
      db.exec("BEGIN IMMEDIATE");
      const tagRows: unknown[][] = [];
      for (let k = 0; k < items.length; k += CHUNK) {
        const chunk = items.slice(k, k + CHUNK);
        if (chunk.length !== CHUNK) throw new Error(`N must be a multiple of ${CHUNK}`);
        if (existing) {
          // Read for a re-import's merge; the benchmark's names are all new, so this finds nothing.
          const found = hashName
            ? existing.all(chunk.map((i) => nameHash(i.resource.accountId, i.resource.name)))
            : existing.all(
                (chunk[0] as ResourceImport).resource.accountId,
                ...chunk.map((i) => i.resource.name),
              );
          if (found.length > 0) throw new Error("the model imports new resources only");
        }
        const params: unknown[] = [];
        for (const item of chunk) {
          const tags = item.tags ?? [];
          params.push(
            ...resourceValues(item.resource),
            tags.length > 0 ? 1 : 0,
            tags.length,
            encodeTags(tags.map((t) => [t.key, t.value])),
            nameHash(item.resource.accountId, item.resource.name),
          );
        }
        const rids = new Map<string, number>();
        for (const row of upsert.all(params) as { rid: number; name: string }[]) rids.set(row.name, row.rid);
        for (const item of chunk) {
          const rid = rids.get(item.resource.name) as number;
          for (const t of item.tags ?? [])
            tagRows.push(
              scopeInt
                ? [1, t.key, t.value, rid]
                : [item.resource.accountId, item.resource.region, t.key, t.value, rid],
            );
        }
      }
      const at = scopeInt ? 1 : 2;
      const sortKey = (row: unknown[]) => `${row[at]}\u0000${row[at + 1]}`;
      const keyed = tagRows.map((row) => ({ key: sortKey(row), row }));
      keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const { row } of keyed) tagInsert.run(row);
      db.exec("COMMIT");
      cpu += threadCpu() - t0;
      frames += (db.pragma("wal_checkpoint(PASSIVE)") as { log: number }[])[0]?.log ?? 0;
      db.pragma("wal_checkpoint(TRUNCATE)");
    }
    return { cpu, frames };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `import of ${n.toLocaleString("en-US")} resources in calls of ${CALL.toLocaleString("en-US")}, main thread's CPU:`,
);
for (const variant of variants) {
  const { cpu, frames } = run(variant);
  console.log(
    `  ${variant.padEnd(28)} ${cpu.toFixed(2).padStart(7)} s   WAL pages written ${frames.toLocaleString("en-US")}`,
  );
}
