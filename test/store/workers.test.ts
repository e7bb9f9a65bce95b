import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetResourcesCommand,
  GetTagKeysCommand,
  GetTagValuesCommand,
  ResourceGroupsTaggingAPIClient,
  TagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import pg from "pg";
import { ec2Arn, KEY_A, spawnInstance, testConfig } from "../helpers.ts";
import { ENGINES, type Scratch } from "./engines.ts";

type Instance = Awaited<ReturnType<typeof spawnInstance>>;

/** The URL a spawned tagd needs to work in the scratch's PostgreSQL schema (created here). */
async function databaseUrlOf(scratch: Scratch): Promise<string | undefined> {
  if (!scratch.databaseUrl || !scratch.schema) return undefined;
  const client = new pg.Client({ connectionString: scratch.databaseUrl });
  await client.connect();
  await client.query(`CREATE SCHEMA ${scratch.schema}`);
  await client.end();
  const url = new URL(scratch.databaseUrl);
  url.searchParams.set("options", `-c search_path=${scratch.schema}`);
  return url.toString().replace(/options=([^&]*)/, (_, v: string) => `options=${v.replace(/\+/g, "%20")}`);
}

/**
 * The process ids in the log lines matching `re`, in the order they first appear: each line's own
 * (`pid`, pino's), or another field of it that names a process.
 */
function pidsLogging(output: string, re: RegExp, field: "pid" | "worker" = "pid"): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split("\n")) {
    if (!re.test(line)) continue;
    try {
      const pid = (JSON.parse(line) as Record<string, number | undefined>)[field];
      if (pid !== undefined) pids.add(pid);
    } catch {
      // not a log line, or one still being written
    }
  }
  return pids;
}

/**
 * The workers the primary has seen listening, in the order it saw them. The workers' own lines are
 * no guide: they reach the shared output before or after the primary's, as the processes run.
 */
function workersListening(output: string): Set<number> {
  return pidsLogging(output, /"msg":"worker listening"/, "worker");
}

/** An SDK client with a connection of its own, opened now: the primary hands connections out in turn. */
async function connectedClient(url: string): Promise<ResourceGroupsTaggingAPIClient> {
  const client = new ResourceGroupsTaggingAPIClient({
    endpoint: url,
    region: "us-east-1",
    credentials: KEY_A,
    maxAttempts: 1,
  });
  await client.send(new GetTagKeysCommand({}));
  return client;
}

for (const engine of ENGINES) {
  describe(`--workers 2 on one store (${engine.name})`, { skip: engine.skip }, () => {
    let scratch: Scratch;
    let tagd: Instance;
    let clients: ResourceGroupsTaggingAPIClient[];

    before(async () => {
      scratch = await engine.scratch();
      tagd = await spawnInstance({
        config: testConfig(),
        dataDir: scratch.dataDir,
        databaseUrl: await databaseUrlOf(scratch),
        workers: 2,
      });
      clients = [];
      for (let i = 0; i < 4; i++) clients.push(await connectedClient(tagd.url));
    });

    after(async () => {
      for (const c of clients ?? []) c.destroy();
      await tagd?.stop();
      await scratch?.dispose();
    });

    test("both workers serve the port", () => {
      const listening = workersListening(tagd.output());
      assert.equal(listening.size, 2, tagd.output());
      const served = pidsLogging(tagd.output(), /"dialect":"aws-json"/);
      assert.deepEqual([...served].sort(), [...listening].sort(), "each took some of the connections");
    });

    test("a write through one worker is read at once through the other", async () => {
      const arn = ec2Arn("i-workers-raw");
      for (let round = 0; round < 12; round++) {
        const writer = clients[round % 4] as ResourceGroupsTaggingAPIClient;
        const reader = clients[(round + 1) % 4] as ResourceGroupsTaggingAPIClient;
        const written = await writer.send(
          new TagResourcesCommand({ ResourceARNList: [arn], Tags: { round: String(round) } }),
        );
        assert.deepEqual(written.FailedResourcesMap, {});
        const listed = await reader.send(new GetResourcesCommand({ ResourceARNList: [arn] }));
        assert.deepEqual(listed.ResourceTagMappingList?.[0]?.Tags, [{ Key: "round", Value: String(round) }]);
        const values = await reader.send(new GetTagValuesCommand({ Key: "round" }));
        assert.deepEqual(values.TagValues, [String(round)]);
      }
    });

    test("concurrent writes through both workers are all kept, counters included", async () => {
      const arns = Array.from({ length: 120 }, (_, i) => ec2Arn(`i-workers-${i}`));
      const outcomes = await Promise.all(
        arns.map((arn, i) =>
          (clients[i % 4] as ResourceGroupsTaggingAPIClient).send(
            new TagResourcesCommand({
              ResourceARNList: [arn],
              Tags: { batch: `b${i % 7}`, [`k${i % 5}`]: "x" },
            }),
          ),
        ),
      );
      for (const out of outcomes) assert.deepEqual(out.FailedResourcesMap, {});
      // Paged through both workers in turn: the pagination secret is shared.
      const seen = new Map<string, Record<string, string>>();
      let token: string | undefined;
      let turn = 0;
      do {
        const page = await (clients[turn++ % 4] as ResourceGroupsTaggingAPIClient).send(
          new GetResourcesCommand({
            TagFilters: [{ Key: "batch" }],
            ResourcesPerPage: 25,
            PaginationToken: token,
          }),
        );
        for (const m of page.ResourceTagMappingList ?? [])
          seen.set(m.ResourceARN ?? "", Object.fromEntries((m.Tags ?? []).map((t) => [t.Key, t.Value])));
        token = page.PaginationToken || undefined;
      } while (token);
      assert.equal(seen.size, arns.length);
      for (const [i, arn] of arns.entries())
        assert.deepEqual(seen.get(arn), { batch: `b${i % 7}`, [`k${i % 5}`]: "x" });
      const keys = await (clients[1] as ResourceGroupsTaggingAPIClient).send(new GetTagKeysCommand({}));
      assert.deepEqual(keys.TagKeys?.sort(), ["batch", "k0", "k1", "k2", "k3", "k4", "round"]);
      const values = await (clients[2] as ResourceGroupsTaggingAPIClient).send(
        new GetTagValuesCommand({ Key: "batch" }),
      );
      assert.deepEqual(values.TagValues?.sort(), ["b0", "b1", "b2", "b3", "b4", "b5", "b6"]);
    });

    test("a worker that dies is replaced; SIGTERM then stops every process", async () => {
      const before = workersListening(tagd.output());
      const victim = [...before][0] as number;
      process.kill(victim, "SIGKILL");
      const deadline = Date.now() + 30_000;
      while (workersListening(tagd.output()).size < 3) {
        assert.ok(Date.now() < deadline, `no replacement worker: ${tagd.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.match(tagd.output(), /worker died: starting another/);
      // New connections are served, by the survivor and the replacement.
      for (let i = 0; i < 4; i++) {
        const client = await connectedClient(tagd.url);
        const listed = await client.send(
          new GetResourcesCommand({ ResourceARNList: [ec2Arn("i-workers-0")] }),
        );
        assert.equal(listed.ResourceTagMappingList?.length, 1);
        client.destroy();
      }
      const workers = [...workersListening(tagd.output())].filter((p) => p !== victim);
      const exited = new Promise<number | null>((resolve) => tagd.process.once("exit", resolve));
      tagd.process.kill("SIGTERM");
      assert.equal(await exited, 0, tagd.output());
      for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
    });
  });
}

test("a second signal kills a worker that does not stop", { timeout: 60_000 }, async () => {
  const engine = ENGINES.find((e) => e.name === "sqlite") as (typeof ENGINES)[number];
  const scratch = await engine.scratch();
  const tagd = await spawnInstance({ config: testConfig(), dataDir: scratch.dataDir, workers: 2 });
  const workers = [...workersListening(tagd.output())];
  const [stuck] = workers as [number];
  try {
    assert.equal(workers.length, 2, tagd.output());
    // A worker that cannot finish (stopped here; a request that never ends does the same).
    process.kill(stuck, "SIGSTOP");
    const exited = new Promise<number | null>((resolve) => tagd.process.once("exit", resolve));
    tagd.process.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(tagd.process.exitCode, null, "the first signal waits for the workers to finish");
    tagd.process.kill("SIGTERM");
    assert.equal(await exited, 1, tagd.output());
    assert.match(tagd.output(), /second signal: killing the workers left/);
    for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
  } finally {
    try {
      process.kill(stuck, "SIGKILL");
    } catch {
      // already gone
    }
    await tagd.stop();
    await scratch.dispose();
  }
});

test("workers that keep dying soon after they start are replaced after a growing pause", {
  timeout: 60_000,
}, async () => {
  const engine = ENGINES.find((e) => e.name === "sqlite") as (typeof ENGINES)[number];
  const scratch = await engine.scratch();
  const tagd = await spawnInstance({ config: testConfig(), dataDir: scratch.dataDir, workers: 2 });
  try {
    const delays: number[] = [];
    for (let death = 1; death <= 3; death++) {
      // Workers the primary has seen listening. A worker's own "Server listening" line may come
      // before the primary hears of it, and one killed in between is a failed start (retried after a
      // pause of its own), not a death.
      const listening = [...workersListening(tagd.output())];
      const newest = listening[listening.length - 1] as number;
      process.kill(newest, "SIGKILL");
      const deadline = Date.now() + 30_000;
      while (workersListening(tagd.output()).size < listening.length + 1) {
        assert.ok(Date.now() < deadline, `no replacement worker: ${tagd.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const died = tagd
        .output()
        .split("\n")
        .filter((line) => line.includes("worker died: starting another"));
      delays.push((JSON.parse(died[died.length - 1] as string) as { delay: number }).delay);
    }
    assert.deepEqual(delays, [500, 1000, 2000]);
    // Still serving.
    const client = await connectedClient(tagd.url);
    client.destroy();
  } finally {
    await tagd.stop();
    await scratch.dispose();
  }
});
