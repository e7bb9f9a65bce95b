import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetResourcesCommand,
  type GetResourcesCommandOutput,
  GetTagKeysCommand,
  GetTagValuesCommand,
  UntagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ec2Arn,
  KEY_B,
  type StartOptions,
  startServer,
  type TestServer,
  tag,
} from "../helpers.ts";
import { ENGINES, type Scratch } from "../store/engines.ts";

const r1 = ec2Arn("i-restart1");
const r2 = ec2Arn("i-restart2");
const r3 = ec2Arn("i-restart3");
const rb = ec2Arn("i-restart-b", ACCOUNT_B);
const rw = ec2Arn("i-restart-west", ACCOUNT_A, "us-west-2");

function sortedTags(tags: { Key?: string; Value?: string }[] | undefined) {
  return [...(tags ?? [])].sort((x, y) => (x.Key ?? "").localeCompare(y.Key ?? ""));
}

for (const engine of ENGINES) {
  describe(`a restart on ${engine.name}`, { skip: engine.skip }, () => {
    let scratch: Scratch;
    let server: TestServer;
    let token: string;
    let firstPage: string[];
    const options = (): StartOptions => ({
      dataDir: scratch.dataDir,
      databaseUrl: scratch.databaseUrl,
      schema: scratch.schema,
    });

    let neighbour: Scratch | undefined;

    before(async () => {
      if (engine.name === "postgres") {
        // Another tagd already migrated in another schema of the same database: ours must still
        // get its own tables (Kysely's Migrator once found the neighbour's and skipped creating them).
        neighbour = await engine.scratch();
        const other = await startServer({
          dataDir: neighbour.dataDir,
          databaseUrl: neighbour.databaseUrl,
          schema: neighbour.schema,
        });
        await other.stop(false);
      }
      scratch = await engine.scratch();
      server = await startServer(options());
      const a = server.tagging();
      await tag(a, [r1], { env: "prod", team: "a" });
      await tag(a, [r2], { env: "dev" });
      await tag(a, [r3], { tmp: "x" });
      await a.send(new UntagResourcesCommand({ ResourceARNList: [r3], TagKeys: ["tmp"] }));
      await tag(server.tagging("us-east-1", KEY_B), [rb], { owner: "b" });
      await tag(server.tagging("us-west-2"), [rw], { where: "west" });
      const first = await a.send(new GetResourcesCommand({ ResourcesPerPage: 1 }));
      assert.ok(first.PaginationToken);
      token = first.PaginationToken;
      firstPage = (first.ResourceTagMappingList ?? []).map((m) => m.ResourceARN ?? "");

      await server.stop(false);
      server = await startServer(options());
    });
    after(async () => {
      // `before` may have failed half-way: clean up whatever it got to.
      await (server as TestServer | undefined)?.stop(false);
      await (scratch as Scratch | undefined)?.dispose();
      await neighbour?.dispose();
    });

    test("tags and previously tagged resources are still listed", async () => {
      const out = await server.tagging().send(new GetResourcesCommand({}));
      const got = (out.ResourceTagMappingList ?? [])
        .map((m) => [m.ResourceARN, sortedTags(m.Tags)] as const)
        .sort((x, y) => (x[0] ?? "").localeCompare(y[0] ?? ""));
      assert.deepEqual(got, [
        [
          r1,
          [
            { Key: "env", Value: "prod" },
            { Key: "team", Value: "a" },
          ],
        ],
        [r2, [{ Key: "env", Value: "dev" }]],
        [r3, []],
      ]);
      const b = await server.tagging("us-east-1", KEY_B).send(new GetResourcesCommand({}));
      assert.deepEqual(b.ResourceTagMappingList, [{ ResourceARN: rb, Tags: [{ Key: "owner", Value: "b" }] }]);
      const west = await server.tagging("us-west-2").send(new GetResourcesCommand({}));
      assert.deepEqual(west.ResourceTagMappingList, [
        { ResourceARN: rw, Tags: [{ Key: "where", Value: "west" }] },
      ]);
    });

    test("keys and values are still there", async () => {
      const a = server.tagging();
      assert.deepEqual((await a.send(new GetTagKeysCommand({}))).TagKeys?.sort(), ["env", "team"]);
      assert.deepEqual((await a.send(new GetTagValuesCommand({ Key: "env" }))).TagValues?.sort(), [
        "dev",
        "prod",
      ]);
      assert.deepEqual((await a.send(new GetTagValuesCommand({ Key: "tmp" }))).TagValues, []);
    });

    test("a pagination token issued before the restart still continues its query", async () => {
      const a = server.tagging();
      const seen = [...firstPage];
      let next: string | undefined = token;
      while (next) {
        const out: GetResourcesCommandOutput = await a.send(
          new GetResourcesCommand({ ResourcesPerPage: 1, PaginationToken: next }),
        );
        seen.push(...(out.ResourceTagMappingList ?? []).map((m) => m.ResourceARN ?? ""));
        next = out.PaginationToken;
      }
      assert.deepEqual(seen.sort(), [r1, r2, r3].sort());
    });

    test("writes after the restart keep the counts right", async () => {
      const a = server.tagging();
      await tag(a, [r3], { env: "prod" });
      await a.send(new UntagResourcesCommand({ ResourceARNList: [r1], TagKeys: ["env", "team"] }));
      assert.deepEqual((await a.send(new GetTagValuesCommand({ Key: "env" }))).TagValues?.sort(), [
        "dev",
        "prod",
      ]);
      assert.deepEqual((await a.send(new GetTagKeysCommand({}))).TagKeys, ["env"]);
      await a.send(new UntagResourcesCommand({ ResourceARNList: [r2, r3], TagKeys: ["env"] }));
      assert.deepEqual((await a.send(new GetTagKeysCommand({}))).TagKeys, []);
      const listed = await a.send(new GetResourcesCommand({}));
      assert.equal(listed.ResourceTagMappingList?.length, 3);
      assert.ok(listed.ResourceTagMappingList?.every((m) => m.Tags?.length === 0));
    });
  });
}
