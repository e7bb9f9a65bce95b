import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { ResourceRecord } from "../../src/domain/resource.ts";
import { openStore } from "../../src/store/open.ts";
import type { TagStore } from "../../src/store/store.ts";

/** PostgreSQL runs when this is set (CI sets it); otherwise its variants are skipped, saying so. */
export const PG_URL = process.env.TAGD_TEST_DATABASE_URL;
export const PG_SKIP = PG_URL ? undefined : "PostgreSQL skipped: set TAGD_TEST_DATABASE_URL to run it";

/** A fresh place to keep data: a temp data dir, and on PostgreSQL a schema of its own. */
export interface Scratch {
  dataDir: string;
  databaseUrl?: string;
  schema?: string;
  dispose(): Promise<void>;
}

export interface EngineUnderTest {
  name: "sqlite" | "postgres";
  /** Why this engine is skipped here, if it is. */
  skip?: string;
  scratch(): Promise<Scratch>;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export const ENGINES: EngineUnderTest[] = [
  {
    name: "sqlite",
    async scratch() {
      const dataDir = mkdtempSync(join(tmpdir(), "tagd-store-"));
      return { dataDir, dispose: async () => rmSync(dataDir, { recursive: true, force: true }) };
    },
  },
  {
    name: "postgres",
    skip: PG_SKIP,
    async scratch() {
      const dataDir = mkdtempSync(join(tmpdir(), "tagd-store-"));
      const schema = `tagd_test_${randomBytes(6).toString("hex")}`;
      return {
        dataDir,
        databaseUrl: PG_URL,
        schema,
        async dispose() {
          rmSync(dataDir, { recursive: true, force: true });
          if (PG_URL) await dropSchema(PG_URL, schema);
        },
      };
    },
  },
];

/** A fresh, migrated store on the engine. */
export async function openFresh(
  engine: EngineUnderTest,
): Promise<{ store: TagStore; dispose(): Promise<void> }> {
  const scratch = await engine.scratch();
  const store = await openStore(scratch);
  await store.migrate();
  return {
    store,
    async dispose() {
      await store.close();
      await scratch.dispose();
    },
  };
}

if (PG_SKIP) console.log(`# ${PG_SKIP}`);

/** An EC2 instance record of an account and region: the resource the store suites tag. */
export function ec2(id: string, accountId = "111111111111", region = "us-east-1"): ResourceRecord {
  return {
    cloud: "aws",
    accountId,
    region,
    partition: "aws",
    service: "ec2",
    resourceType: "instance",
    resourceId: id,
    name: `arn:aws:ec2:${region}:${accountId}:instance/${id}`,
    resourceGroupId: null,
    state: null,
  };
}

/** A pool on a PostgreSQL scratch's own schema, for looking at (or reading) what a store wrote. */
export function schemaPool(scratch: Scratch): pg.Pool {
  return new pg.Pool({ connectionString: scratch.databaseUrl, options: `-c search_path=${scratch.schema}` });
}

/** A migrated SQLite store on a fresh data directory, closed and removed after `run`. */
export async function withSqliteStore(
  run: (ctx: { dataDir: string; store: TagStore }) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "tagd-store-"));
  const store = await openStore({ dataDir });
  try {
    await store.migrate();
    await run({ dataDir, store });
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
