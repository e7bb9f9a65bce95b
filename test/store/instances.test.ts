import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  GetResourcesCommand,
  GetTagKeysCommand,
  GetTagValuesCommand,
  TagResourcesCommand,
  UntagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { ec2Arn, withTwoInstances } from "../helpers.ts";
import { ENGINES } from "./engines.ts";

/** Two instances on one store behave as one service: shared tokens, no stale reads. */
for (const engine of ENGINES) {
  describe(`two instances on one store (${engine.name})`, { skip: engine.skip }, () => {
    test("a token from one instance pages on the other; each sees the other's writes at once", async () => {
      await withTwoInstances(engine, async (one, two) => {
        const a = one.tagging();
        const b = two.tagging();
        const arns = Array.from({ length: 9 }, (_, i) => ec2Arn(`i-multi-${i}`));
        await a.send(new TagResourcesCommand({ ResourceARNList: arns, Tags: { shared: "yes" } }));
        const seen: string[] = [];
        let token: string | undefined;
        let turn = 0;
        do {
          const client = turn++ % 2 === 0 ? a : b;
          const page = await client.send(
            new GetResourcesCommand({ ResourcesPerPage: 2, PaginationToken: token }),
          );
          seen.push(...(page.ResourceTagMappingList ?? []).map((r) => r.ResourceARN ?? ""));
          token = page.PaginationToken || undefined;
        } while (token);
        assert.deepEqual(seen.sort(), [...arns].sort());

        await b.send(new TagResourcesCommand({ ResourceARNList: [arns[0] as string], Tags: { fresh: "1" } }));
        assert.ok((await a.send(new GetTagKeysCommand({}))).TagKeys?.includes("fresh"));
        await a.send(new UntagResourcesCommand({ ResourceARNList: [arns[0] as string], TagKeys: ["fresh"] }));
        assert.ok(!(await b.send(new GetTagKeysCommand({}))).TagKeys?.includes("fresh"));
        assert.deepEqual((await b.send(new GetTagValuesCommand({ Key: "fresh" }))).TagValues, []);
      });
    });
  });
}
