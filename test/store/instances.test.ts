import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DescribeReportCreationCommand,
  GetComplianceSummaryCommand,
  GetResourcesCommand,
  GetTagKeysCommand,
  GetTagValuesCommand,
  StartReportCreationCommand,
  TagResourcesCommand,
  UntagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { ec2Arn, sdkError, withTwoInstances } from "../helpers.ts";
import { orgConfig, policy, putPolicy, ROOT } from "../policy/org.ts";
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

    test("concurrent compliance polls on one instance see what the other wrote before they were asked", async () => {
      await withTwoInstances(
        engine,
        async (one, two) => {
          const polls = (n: number) =>
            Promise.all(
              Array.from({ length: n }, () => two.tagging().send(new DescribeReportCreationCommand({}))),
            );
          // Before any policy: every poll is refused, as the real service does.
          const refused = await sdkError(two.tagging().send(new DescribeReportCreationCommand({})));
          assert.equal(refused.name, "ConstraintViolationException");
          const cost = policy("costcenter", { tag_key: { "@@assign": "CostCenter" } });
          await putPolicy(one, "cost", cost, [ROOT]);
          for (const out of await polls(16)) assert.equal(out.Status, "NO REPORT");

          await one.tagging().send(new StartReportCreationCommand({ S3Bucket: "no-such-bucket" }));
          for (const out of await polls(16))
            assert.ok(["RUNNING", "FAILED"].includes(out.Status ?? ""), out.Status);

          const summary = async () => {
            const out = await two
              .tagging()
              .send(new GetComplianceSummaryCommand({ GroupBy: ["RESOURCE_TYPE"] }));
            return (
              out.SummaryList?.find((s) => s.ResourceType === "ec2:instance")?.NonCompliantResources ?? 0
            );
          };
          const arn = ec2Arn("i-compliance-poll");
          await one
            .tagging()
            .send(new TagResourcesCommand({ ResourceARNList: [arn], Tags: { costcenter: "x" } }));
          assert.deepEqual(await Promise.all(Array.from({ length: 8 }, summary)), Array(8).fill(1));
          await one
            .tagging()
            .send(new UntagResourcesCommand({ ResourceARNList: [arn], TagKeys: ["costcenter"] }));
          assert.deepEqual(await Promise.all(Array.from({ length: 8 }, summary)), Array(8).fill(0));
        },
        orgConfig(),
      );
    });
  });
}
