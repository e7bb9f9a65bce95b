import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AddTagsRequest,
  AddTagsRequestTag,
  RemoveTagsRequest,
  RemoveTagsRequestTag,
} from "@alicloud/ecs20140526";
import { ALIBABA_SIGNATURES, aliError, ecsTagsOf, startServer, type TestServer } from "../helpers.ts";

const REGION = "cn-hangzhou";

function removeTags(
  id: string,
  tags: [string | undefined, string | undefined][],
  over: Partial<RemoveTagsRequest> = {},
) {
  return new RemoveTagsRequest({
    regionId: REGION,
    resourceType: "instance",
    resourceId: id,
    tag: tags.map(
      ([key, value]) =>
        new RemoveTagsRequestTag({
          ...(key === undefined ? {} : { key }),
          ...(value === undefined ? {} : { value }),
        }),
    ),
    ...over,
  });
}

async function seed(server: TestServer, id: string, tags: Record<string, string>) {
  await server.ecs().addTags(
    new AddTagsRequest({
      regionId: REGION,
      resourceType: "instance",
      resourceId: id,
      tag: Object.entries(tags).map(([key, value]) => new AddTagsRequestTag({ key, value })),
    }),
  );
}

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

for (const { name, options } of ALIBABA_SIGNATURES) {
  describe(`RemoveTags (${name})`, () => {
    const sig = name.startsWith("v1") ? "v1" : "acs3";
    const client = () => server.ecs(REGION, undefined, options);

    test("removes a tag by its key", async () => {
      const id = `i-${sig}rm1`;
      await seed(server, id, { a: "1", b: "2" });
      const out = await client().removeTags(removeTags(id, [["a", undefined]]));
      assert.equal(out.statusCode, 200);
      assert.deepEqual(await ecsTagsOf(server, id), { b: "2" });
    });

    test("with a value, removes the tag only when the value matches", async () => {
      const id = `i-${sig}rm2`;
      await seed(server, id, { a: "1", b: "2" });
      await client().removeTags(
        removeTags(id, [
          ["a", "other"],
          ["b", "2"],
        ]),
      );
      assert.deepEqual(await ecsTagsOf(server, id), { a: "1" });
    });

    test("a value without its key is InvalidTag.Mismatch (400), nothing changes", async () => {
      const id = `i-${sig}rm3`;
      await seed(server, id, { a: "1" });
      const err = await aliError(
        client().removeTags(
          removeTags(id, [
            ["a", undefined],
            [undefined, "1"],
          ]),
        ),
      );
      assert.equal(err.code, "InvalidTag.Mismatch");
      assert.equal(err.status, 400);
      assert.match(err.data.Message, /Tag\.2\.Key/);
      assert.deepEqual(await ecsTagsOf(server, id), { a: "1" });
    });

    test("a type only the newer actions take is InvalidResourceType.NotFound (404)", async () => {
      const err = await aliError(
        client().removeTags(removeTags("mi-x", [["a", undefined]], { resourceType: "managedinstance" })),
      );
      assert.equal(err.code, "InvalidResourceType.NotFound");
      assert.equal(err.status, 404);
    });

    test("an unknown region is InvalidRegionId.NotFound (404)", async () => {
      const err = await aliError(
        client().removeTags(removeTags("i-x", [["a", undefined]], { regionId: "moon-1" })),
      );
      assert.equal(err.code, "InvalidRegionId.NotFound");
      assert.equal(err.status, 404);
    });
  });
}
