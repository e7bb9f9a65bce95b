import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { GetResourcesCommand, TagResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import { ec2Arn, sdkError, startServer } from "../helpers.ts";
import { PG_SKIP } from "./engines.ts";

/**
 * The database goes away under load and comes back: requests get the tagging API's 503
 * ServiceUnavailable meanwhile, /health says so, tagd recovers by itself, and no acknowledged write
 * is lost. It runs a private PostgreSQL server (initdb in a temp dir, on its own port) so stopping it
 * disturbs nothing else.
 */
function pgBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort().at(-1);
  const bin = version && join(root, version, "bin");
  return bin && existsSync(join(bin, "initdb")) ? bin : undefined;
}

const BIN = pgBin();
const SKIP =
  PG_SKIP ??
  (BIN ? undefined : "PostgreSQL outage test skipped: no PostgreSQL server binaries (initdb, pg_ctl) here");

function asPostgres(cmd: string, args: string[]) {
  const isRoot = process.getuid?.() === 0;
  const [file, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { stdio: "pipe" }).toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe("database outage (postgres)", { skip: SKIP }, () => {
  test("503 while down, /health reports it, recovery without restart, no acknowledged write lost", {
    timeout: 120_000,
  }, async () => {
    const bin = BIN as string;
    const dir = mkdtempSync(join(tmpdir(), "tagd-pg-"));
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
      chownSync(dir, uid, gid);
    }
    const pgdata = join(dir, "data");
    const port = await freePort();
    const pgCtl = (action: string) =>
      asPostgres(join(bin, "pg_ctl"), [
        "-D",
        pgdata,
        "-w",
        "-l",
        join(dir, "log"),
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
        ...(action === "stop" ? ["-m", "fast"] : []),
        action,
      ]);
    asPostgres(join(bin, "initdb"), ["-D", pgdata, "-A", "trust", "-U", "postgres"]);
    pgCtl("start");
    const server = await startServer({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres` });
    try {
      const client = server.tagging();
      const acknowledged: string[] = [];
      const unavailable: { name: string; status?: number }[] = [];
      let running = true;
      let n = 0;
      const worker = async () => {
        while (running) {
          const id = `i-load-${n++}`;
          try {
            const out = await client.send(
              new TagResourcesCommand({ ResourceARNList: [ec2Arn(id)], Tags: { k: id } }),
            );
            if (Object.keys(out.FailedResourcesMap ?? {}).length === 0) acknowledged.push(id);
          } catch (err) {
            const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
            unavailable.push({ name: e.name, status: e.$metadata?.httpStatusCode });
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      };
      const load = Array.from({ length: 4 }, worker);
      await new Promise((r) => setTimeout(r, 500));
      pgCtl("stop");
      const down = await fetch(`${server.url}/health`);
      assert.equal(down.status, 503);
      const failure = await sdkError(
        client.send(new TagResourcesCommand({ ResourceARNList: [ec2Arn("i-x")], Tags: { a: "b" } })),
      );
      assert.equal(failure.name, "ServiceUnavailable");
      assert.equal(failure.status, 503);
      await new Promise((r) => setTimeout(r, 500));
      const ackedBeforeRestart = acknowledged.length;
      pgCtl("start");
      let healthy = false;
      for (let i = 0; i < 100 && !healthy; i++) {
        healthy = (await fetch(`${server.url}/health`)).status === 200;
        if (!healthy) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(healthy, "tagd did not recover after the database came back");
      await new Promise((r) => setTimeout(r, 500));
      running = false;
      await Promise.all(load);
      assert.ok(acknowledged.length > ackedBeforeRestart, "no write succeeded after the database came back");
      assert.ok(unavailable.length > 0);
      for (const u of unavailable) assert.deepEqual(u, { name: "ServiceUnavailable", status: 503 });
      const found = new Set<string>();
      for (let i = 0; i < acknowledged.length; i += 100) {
        const page = await client.send(
          new GetResourcesCommand({
            ResourceARNList: acknowledged.slice(i, i + 100).map((id) => ec2Arn(id)),
          }),
        );
        for (const r of page.ResourceTagMappingList ?? []) found.add(r.ResourceARN ?? "");
      }
      const lost = acknowledged.filter((id) => !found.has(ec2Arn(id)));
      assert.deepEqual(lost, []);
    } finally {
      await server.stop(true);
      try {
        pgCtl("stop");
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
