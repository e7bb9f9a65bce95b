import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TagResourcesRequest, TagResourcesRequestTag } from "@alicloud/ecs20140526";
import { GetResourcesCommand, TagResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import { ec2Arn, ecsTagsOf, withTwoInstances } from "../helpers.ts";
import { ENGINES } from "./engines.ts";

const WRITERS = 40;
const KEYS_PER_WRITER = 5;

/**
 * Many clients race to add tags to one resource through two tagd instances on one store: the
 * 50-tag limit must hold exactly (no more than 50, and exactly 50 once 200 candidate keys arrived)
 * and every acknowledged write must be there (no lost update).
 */
for (const engine of ENGINES) {
  describe(`concurrent writers on two instances (${engine.name})`, { skip: engine.skip }, () => {
    test("per-resource limit holds and no acknowledged write is lost", { timeout: 120_000 }, async () => {
      await withTwoInstances(engine, async (one, two) => {
        const arn = ec2Arn("i-contended");
        const clients = [one.tagging(), two.tagging()];
        const results = await Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            const tags = Object.fromEntries(
              Array.from({ length: KEYS_PER_WRITER }, (_, k) => [`w${w}-k${k}`, `v${w}`]),
            );
            const out = await clients[w % 2]?.send(
              new TagResourcesCommand({ ResourceARNList: [arn], Tags: tags }),
            );
            return { keys: Object.keys(tags), ok: Object.keys(out?.FailedResourcesMap ?? {}).length === 0 };
          }),
        );
        const got = await one.tagging().send(new GetResourcesCommand({ ResourceARNList: [arn] }));
        const tags = got.ResourceTagMappingList?.[0]?.Tags ?? [];
        const winners = results.filter((r) => r.ok);
        assert.equal(winners.length, 50 / KEYS_PER_WRITER);
        assert.equal(tags.length, 50);
        const present = new Set(tags.map((t) => t.Key));
        for (const w of winners)
          for (const k of w.keys) assert.ok(present.has(k), `acknowledged key ${k} lost`);
      });
    });

    test("Alibaba's 20-tag limit holds the same way through ECS TagResources", {
      timeout: 120_000,
    }, async () => {
      await withTwoInstances(engine, async (one, two) => {
        const id = "i-contended";
        // A client per writer, so that nothing queues the calls before they reach tagd.
        const clients = Array.from({ length: WRITERS }, (_, w) => (w % 2 ? two : one).ecs());
        const results = await Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            const keys = Array.from({ length: KEYS_PER_WRITER }, (_, k) => `w${w}-k${k}`);
            const request = new TagResourcesRequest({
              regionId: "cn-hangzhou",
              resourceType: "instance",
              resourceId: [id],
              tag: keys.map((key) => new TagResourcesRequestTag({ key, value: `v${w}` })),
            });
            try {
              await clients[w]?.tagResources(request);
              return { keys, ok: true };
            } catch (err) {
              // Refused ones are refused with the documented quota error and nothing else.
              assert.equal((err as { code?: string }).code, "QuotaExceed.Tags", String(err));
              return { keys, ok: false };
            }
          }),
        );
        const tags = (await ecsTagsOf(one, id)) ?? {};
        const winners = results.filter((r) => r.ok);
        assert.equal(winners.length, 20 / KEYS_PER_WRITER);
        assert.equal(Object.keys(tags).length, 20);
        for (const w of winners) for (const k of w.keys) assert.ok(k in tags, `acknowledged key ${k} lost`);
      });
    });
  });
}
