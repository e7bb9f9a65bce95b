import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GetResourcesCommand,
  type GetResourcesCommandInput,
  paginateGetResources,
  type ResourceGroupsTaggingAPIClient,
  type ResourceTagMapping,
  UntagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { ACCOUNT_A, ACCOUNT_B, ec2Arn, sdkError, startServer, type TestServer, tag } from "../helpers.ts";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

async function list(c: ResourceGroupsTaggingAPIClient, input: GetResourcesCommandInput = {}) {
  const out = await c.send(new GetResourcesCommand(input));
  return out.ResourceTagMappingList ?? [];
}

function arnsOf(mappings: ResourceTagMapping[]): string[] {
  return mappings.map((m) => m.ResourceARN ?? "").sort();
}

async function invalid(c: ResourceGroupsTaggingAPIClient, input: GetResourcesCommandInput, message?: RegExp) {
  const err = await sdkError(c.send(new GetResourcesCommand(input)));
  assert.equal(err.name, "InvalidParameterException", err.message);
  assert.equal(err.status, 400);
  if (message) assert.match(err.message, message);
}

describe("GetResources without filters", () => {
  test("lists tagged and previously tagged resources, never those only registered", async () => {
    const c = server.tagging("us-east-2");
    const tagged = ec2Arn("i-listed", ACCOUNT_A, "us-east-2");
    const previously = ec2Arn("i-previously", ACCOUNT_A, "us-east-2");
    const registered = ec2Arn("i-registered-only", ACCOUNT_A, "us-east-2");
    const reg = await server.admin("POST", "/admin/v1/resources", { resources: [{ arn: registered }] });
    assert.ok(reg.status >= 200 && reg.status < 300, JSON.stringify(reg.body));
    await tag(c, [tagged], { env: "prod", app: "web" });
    await tag(c, [previously], { tmp: "1" });
    await c.send(new UntagResourcesCommand({ ResourceARNList: [previously], TagKeys: ["tmp"] }));

    const out = await c.send(new GetResourcesCommand({}));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.PaginationToken, "");
    const byArn = new Map(out.ResourceTagMappingList?.map((m) => [m.ResourceARN, m]));
    assert.deepEqual([...byArn.keys()].sort(), [previously, tagged].sort());
    assert.deepEqual(
      [...(byArn.get(tagged)?.Tags ?? [])].sort((a, b) => (a.Key ?? "").localeCompare(b.Key ?? "")),
      [
        { Key: "app", Value: "web" },
        { Key: "env", Value: "prod" },
      ],
    );
    assert.deepEqual(byArn.get(previously), { ResourceARN: previously, Tags: [] });
    assert.equal(byArn.get(tagged)?.ComplianceDetails, undefined);
  });

  test("an empty Region lists nothing", async () => {
    const out = await server.tagging("sa-east-1").send(new GetResourcesCommand({}));
    assert.deepEqual(out.ResourceTagMappingList, []);
    assert.equal(out.PaginationToken, "");
  });
});

describe("GetResources TagFilters", () => {
  const region = "eu-west-1";
  const r = (id: string) => ec2Arn(id, ACCOUNT_A, region);
  let c: ResourceGroupsTaggingAPIClient;
  before(async () => {
    c = server.tagging(region);
    await tag(c, [r("i-f1")], { env: "prod", team: "a" });
    await tag(c, [r("i-f2")], { env: "dev", team: "b" });
    await tag(c, [r("i-f3")], { env: "prod", team: "b", tier: "web" });
    await tag(c, [r("i-f4")], { env: "", team: "a" });
    await tag(c, [r("i-f5")], { owner: "x" });
  });

  const cases: [string, GetResourcesCommandInput["TagFilters"], string[]][] = [
    ["one key, one value", [{ Key: "env", Values: ["prod"] }], ["i-f1", "i-f3"]],
    [
      "one key, several values: any of them",
      [{ Key: "env", Values: ["prod", "dev"] }],
      ["i-f1", "i-f2", "i-f3"],
    ],
    [
      "a key without values: any value, the empty one too",
      [{ Key: "env" }],
      ["i-f1", "i-f2", "i-f3", "i-f4"],
    ],
    [
      "a key with an empty Values list: any value",
      [{ Key: "env", Values: [] }],
      ["i-f1", "i-f2", "i-f3", "i-f4"],
    ],
    ["the empty value itself", [{ Key: "env", Values: [""] }], ["i-f4"]],
    [
      "several keys: all of them",
      [
        { Key: "env", Values: ["prod"] },
        { Key: "team", Values: ["b"] },
      ],
      ["i-f3"],
    ],
    [
      "a key-only filter and a valued one",
      [{ Key: "env" }, { Key: "team", Values: ["a"] }],
      ["i-f1", "i-f4"],
    ],
    [
      "the seed's filter1, filter2, filter3",
      [{ Key: "team", Values: ["b"] }, { Key: "env", Values: ["prod", "dev", "qa"] }, { Key: "tier" }],
      ["i-f3"],
    ],
    ["a key nobody uses", [{ Key: "missing" }], []],
    ["a value nobody uses", [{ Key: "env", Values: ["staging"] }], []],
    ["keys are case-sensitive", [{ Key: "ENV" }], []],
  ];
  for (const [name, filters, expected] of cases) {
    test(name, async () => {
      const got = await list(c, { TagFilters: filters });
      assert.deepEqual(arnsOf(got), expected.map(r).sort());
    });
  }

  test("matching resources come with all their tags, not just the filtered ones", async () => {
    const got = await list(c, { TagFilters: [{ Key: "tier", Values: ["web"] }] });
    assert.equal(got.length, 1);
    assert.equal(got[0]?.Tags?.length, 3);
  });

  test("20 values are accepted, 21 are refused", async () => {
    const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
    assert.deepEqual(await list(c, { TagFilters: [{ Key: "env", Values: values }] }), []);
    await invalid(c, { TagFilters: [{ Key: "env", Values: [...values, "prod"] }] });
  });

  test("a filter key longer than 128 characters is refused", async () => {
    await invalid(c, { TagFilters: [{ Key: "k".repeat(129) }] });
  });
});

describe("GetResources ResourceTypeFilters", () => {
  const region = "eu-west-2";
  let c: ResourceGroupsTaggingAPIClient;
  const instance = ec2Arn("i-typed", ACCOUNT_A, region);
  const volume = `arn:aws:ec2:${region}:${ACCOUNT_A}:volume/vol-typed`;
  const bucket = "arn:aws:s3:::tagd-typed-bucket";
  const fn = `arn:aws:lambda:${region}:${ACCOUNT_A}:function:typed`;
  before(async () => {
    c = server.tagging(region);
    await tag(c, [instance, volume, bucket], { kind: "infra" });
    await tag(c, [fn], { kind: "code" });
  });

  const cases: [string[], string[]][] = [
    [["ec2"], [instance, volume]],
    [["ec2:instance"], [instance]],
    [["ec2:volume"], [volume]],
    [["s3"], [bucket]],
    [["s3:bucket"], [bucket]],
    [["lambda:function"], [fn]],
    [
      ["ec2:instance", "s3:bucket", "lambda"],
      [instance, bucket, fn],
    ],
    [["ec2:snapshot"], []],
    [["dynamodb"], []],
  ];
  for (const [filters, expected] of cases) {
    test(`${filters.join(",")} lists ${expected.length} resource(s)`, async () => {
      assert.deepEqual(arnsOf(await list(c, { ResourceTypeFilters: filters })), [...expected].sort());
    });
  }

  test("type filters combine with tag filters", async () => {
    const got = await list(c, {
      ResourceTypeFilters: ["ec2", "lambda"],
      TagFilters: [{ Key: "kind", Values: ["infra"] }],
    });
    assert.deepEqual(arnsOf(got), [instance, volume].sort());
  });

  test("an unknown service is an InvalidParameterException", async () => {
    await invalid(c, { ResourceTypeFilters: ["nosuchservice"] }, /nosuchservice/);
    await invalid(c, { ResourceTypeFilters: ["ec2", "nosuchservice:thing"] });
  });
});

describe("GetResources ResourceARNList", () => {
  const region = "ca-central-1";
  const r = (id: string) => ec2Arn(id, ACCOUNT_A, region);
  let c: ResourceGroupsTaggingAPIClient;
  before(async () => {
    c = server.tagging(region);
    await tag(c, [r("i-a1"), r("i-a2"), r("i-a3")], { env: "prod" });
    await tag(c, [r("i-a4")], { gone: "soon" });
    await c.send(new UntagResourcesCommand({ ResourceARNList: [r("i-a4")], TagKeys: ["gone"] }));
    await server.admin("POST", "/admin/v1/resources", { resources: [{ arn: r("i-a5") }] });
  });

  test("returns only the listed resources that exist, silently omitting the others", async () => {
    const theirs = ec2Arn("i-a1", ACCOUNT_B, region);
    const otherRegion = ec2Arn("i-a1", ACCOUNT_A, "us-east-1");
    const out = await c.send(
      new GetResourcesCommand({
        ResourceARNList: [r("i-a1"), r("i-a3"), r("i-a4"), r("i-a5"), r("i-missing"), theirs, otherRegion],
      }),
    );
    assert.equal(out.PaginationToken, "");
    const got = out.ResourceTagMappingList ?? [];
    assert.deepEqual(arnsOf(got), [r("i-a1"), r("i-a3"), r("i-a4")].sort());
    assert.deepEqual(
      got.find((m) => m.ResourceARN === r("i-a4")),
      { ResourceARN: r("i-a4"), Tags: [] },
    );
  });

  test("100 ARNs are accepted, 101 refused", async () => {
    const arns = Array.from({ length: 100 }, (_, i) => r(`i-many${i}`));
    assert.deepEqual(await list(c, { ResourceARNList: arns }), []);
    await invalid(c, { ResourceARNList: [...arns, r("i-one-more")] });
  });

  test("a malformed ARN in the list is refused", async () => {
    await invalid(c, { ResourceARNList: [r("i-a1"), "arn:aws:nonsense"] });
  });

  const conflicts: [string, GetResourcesCommandInput][] = [
    ["ResourceTypeFilters", { ResourceTypeFilters: ["ec2"] }],
    ["TagFilters", { TagFilters: [{ Key: "env" }] }],
    ["ResourcesPerPage", { ResourcesPerPage: 10 }],
    ["TagsPerPage", { TagsPerPage: 100 }],
    ["PaginationToken", { PaginationToken: "abc.def" }],
  ];
  for (const [name, extra] of conflicts) {
    test(`cannot be combined with ${name}`, async () => {
      await invalid(c, { ResourceARNList: [r("i-a1")], ...extra }, new RegExp(name));
    });
  }
});

describe("GetResources page sizes", () => {
  const c = () => server.tagging("us-east-2");
  test("ResourcesPerPage 0 and 101 are refused; 1 and 100 accepted", async () => {
    await invalid(c(), { ResourcesPerPage: 0 }, /ResourcesPerPage/);
    await invalid(c(), { ResourcesPerPage: 101 }, /ResourcesPerPage/);
    await invalid(c(), { ResourcesPerPage: -1 });
    assert.equal((await list(c(), { ResourcesPerPage: 1 })).length, 1);
    assert.equal((await list(c(), { ResourcesPerPage: 100 })).length, 2);
  });

  test("TagsPerPage 99 and 501 are refused; 100 and 500 accepted", async () => {
    await invalid(c(), { TagsPerPage: 99 }, /TagsPerPage/);
    await invalid(c(), { TagsPerPage: 501 }, /TagsPerPage/);
    assert.equal((await list(c(), { TagsPerPage: 100 })).length, 2);
    assert.equal((await list(c(), { TagsPerPage: 500 })).length, 2);
  });
});

describe("GetResources pagination", () => {
  const region = "eu-west-3";
  const arns = Array.from({ length: 23 }, (_, i) =>
    ec2Arn(`i-page${String(i).padStart(2, "0")}`, ACCOUNT_A, region),
  );
  let c: ResourceGroupsTaggingAPIClient;
  before(async () => {
    c = server.tagging(region);
    await tag(c, arns, { paged: "yes" });
    await tag(c, [ec2Arn("i-other", ACCOUNT_A, region)], { paged: "no", extra: "1" });
  });

  test("ResourcesPerPage pages through everything: no duplicates, no gaps, last token empty", async () => {
    const sizes: number[] = [];
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const out = await c.send(
        new GetResourcesCommand({
          ResourcesPerPage: 5,
          PaginationToken: token,
          TagFilters: [{ Key: "paged", Values: ["yes"] }],
        }),
      );
      const page = out.ResourceTagMappingList ?? [];
      sizes.push(page.length);
      seen.push(...page.map((m) => m.ResourceARN ?? ""));
      token = out.PaginationToken;
      assert.equal(typeof token, "string");
    } while (token !== "");
    assert.deepEqual(sizes, [5, 5, 5, 5, 3]);
    assert.equal(new Set(seen).size, seen.length);
    assert.deepEqual([...seen].sort(), [...arns].sort());
  });

  test("the SDK paginator collects every resource of the Region", async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateGetResources({ client: c, pageSize: 4 }, {})) {
      pages++;
      seen.push(...(page.ResourceTagMappingList ?? []).map((m) => m.ResourceARN ?? ""));
    }
    assert.equal(pages, 6);
    assert.equal(new Set(seen).size, 24);
  });

  test("a page size that divides the total exactly still ends with an empty token", async () => {
    const first = await c.send(new GetResourcesCommand({ ResourcesPerPage: 12 }));
    assert.equal(first.ResourceTagMappingList?.length, 12);
    assert.notEqual(first.PaginationToken, "");
    const second = await c.send(
      new GetResourcesCommand({ ResourcesPerPage: 12, PaginationToken: first.PaginationToken }),
    );
    assert.equal(second.ResourceTagMappingList?.length, 12);
    if (second.PaginationToken !== "") {
      const third = await c.send(
        new GetResourcesCommand({ ResourcesPerPage: 12, PaginationToken: second.PaginationToken }),
      );
      assert.deepEqual(third.ResourceTagMappingList, []);
      assert.equal(third.PaginationToken, "");
    }
  });

  test("a token only continues the query it was issued for", async () => {
    const first = await c.send(new GetResourcesCommand({ ResourcesPerPage: 5 }));
    const token = first.PaginationToken;
    assert.ok(token);
    await invalid(c, { ResourcesPerPage: 5, PaginationToken: token, TagFilters: [{ Key: "paged" }] });
    await invalid(c, { ResourcesPerPage: 5, PaginationToken: token, ResourceTypeFilters: ["ec2"] });
    const filtered = await c.send(
      new GetResourcesCommand({ ResourcesPerPage: 5, TagFilters: [{ Key: "paged", Values: ["yes"] }] }),
    );
    await invalid(c, {
      ResourcesPerPage: 5,
      PaginationToken: filtered.PaginationToken,
      TagFilters: [{ Key: "paged", Values: ["no"] }],
    });
    // The same filters in another order are the same query.
    const yesNo = await c.send(
      new GetResourcesCommand({ ResourcesPerPage: 5, TagFilters: [{ Key: "paged", Values: ["yes", "no"] }] }),
    );
    const noYes = await c.send(
      new GetResourcesCommand({
        ResourcesPerPage: 5,
        PaginationToken: yesNo.PaginationToken,
        TagFilters: [{ Key: "paged", Values: ["no", "yes"] }],
      }),
    );
    assert.equal(noYes.ResourceTagMappingList?.length, 5);
    // The page size is not part of the query: a client may change it between pages.
    const resized = await c.send(new GetResourcesCommand({ ResourcesPerPage: 50, PaginationToken: token }));
    assert.equal(resized.ResourceTagMappingList?.length, 19);
    assert.equal(resized.PaginationToken, "");
  });

  test("a tampered or made-up token is refused", async () => {
    const first = await c.send(new GetResourcesCommand({ ResourcesPerPage: 5 }));
    const token = first.PaginationToken ?? "";
    const [payload = "", mac = ""] = token.split(".");
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    const forged = Buffer.from(JSON.stringify({ c: "0", t: Date.now() })).toString("base64url");
    for (const bad of [
      `${flip(payload, 2)}.${mac}`,
      `${payload}.${flip(mac, 3)}`,
      `${forged}.${mac}`,
      payload,
      "not-a-token",
      "1",
      `${token}x`,
    ]) {
      await invalid(c, { ResourcesPerPage: 5, PaginationToken: bad });
    }
    await invalid(c, { PaginationToken: "x".repeat(2049) });
  });
});

describe("GetResources TagsPerPage", () => {
  test("the seed's example: 22 resources with 10 tags each, TagsPerPage 100 → pages of 10, 10, 2", async () => {
    const region = "ap-southeast-2";
    const c = server.tagging(region);
    const arns = Array.from({ length: 22 }, (_, i) =>
      ec2Arn(`i-ten${String(i).padStart(2, "0")}`, ACCOUNT_A, region),
    );
    const tags = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key${i}`, `value${i}`]));
    await tag(c, arns, tags);
    const sizes: number[] = [];
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const out = await c.send(new GetResourcesCommand({ TagsPerPage: 100, PaginationToken: token }));
      const page = out.ResourceTagMappingList ?? [];
      sizes.push(page.length);
      for (const m of page) {
        assert.equal(m.Tags?.length, 10, "a resource is never split across pages");
        seen.push(m.ResourceARN ?? "");
      }
      token = out.PaginationToken;
    } while (token);
    assert.deepEqual(sizes, [10, 10, 2]);
    assert.deepEqual(seen.sort(), [...arns].sort());

    // With both limits, the smaller one decides.
    const both = await c.send(new GetResourcesCommand({ TagsPerPage: 100, ResourcesPerPage: 3 }));
    assert.equal(both.ResourceTagMappingList?.length, 3);
    const wide = await c.send(new GetResourcesCommand({ TagsPerPage: 500, ResourcesPerPage: 100 }));
    assert.equal(wide.ResourceTagMappingList?.length, 22);
    assert.equal(wide.PaginationToken, "");
  });
});

describe("GetResources compliance details", () => {
  const c = () => server.tagging("us-east-2");

  test("IncludeComplianceDetails adds ComplianceDetails to every mapping", async () => {
    const got = await list(c(), { IncludeComplianceDetails: true });
    assert.equal(got.length, 2);
    for (const m of got) {
      assert.deepEqual(m.ComplianceDetails, {
        ComplianceStatus: true,
        NoncompliantKeys: [],
        KeysWithNoncompliantValues: [],
      });
    }
    const byArn = await list(c(), {
      ResourceARNList: [got[0]?.ResourceARN ?? ""],
      IncludeComplianceDetails: true,
    });
    assert.equal(byArn[0]?.ComplianceDetails?.ComplianceStatus, true);
  });

  test("ExcludeCompliantResources without IncludeComplianceDetails is refused", async () => {
    await invalid(c(), { ExcludeCompliantResources: true }, /IncludeComplianceDetails/);
    await invalid(c(), { ExcludeCompliantResources: true, IncludeComplianceDetails: false });
  });

  test("ExcludeCompliantResources leaves out compliant resources: with no tag policy, all of them", async () => {
    const got = await list(c(), { IncludeComplianceDetails: true, ExcludeCompliantResources: true });
    assert.deepEqual(got, []);
    const notExcluded = await list(c(), { IncludeComplianceDetails: true, ExcludeCompliantResources: false });
    assert.equal(notExcluded.length, 2);
    const arn = notExcluded[0]?.ResourceARN ?? "";
    assert.deepEqual(
      await list(c(), {
        ResourceARNList: [arn],
        IncludeComplianceDetails: true,
        ExcludeCompliantResources: true,
      }),
      [],
    );
  });
});

describe("GetResources expired pagination tokens", () => {
  let clock = Date.now();
  let timed: TestServer;
  before(async () => {
    timed = await startServer({ now: () => clock });
  });
  after(() => timed.stop(true));

  test("a token older than 15 minutes gets PaginationTokenExpiredException (400)", async () => {
    const c = timed.tagging();
    await tag(c, [ec2Arn("i-t1"), ec2Arn("i-t2"), ec2Arn("i-t3")], { a: "b" });
    const first = await c.send(new GetResourcesCommand({ ResourcesPerPage: 1 }));
    const token = first.PaginationToken;
    assert.ok(token);

    // The server's clock moves on. The client follows it, as the SDK does after a clock-skew error, so
    // the signature stays current and only the token ages. The SDK also resets its offset from each
    // response's Date header (the real clock), so it is set again before every call.
    const send = (token?: string) => {
      c.config.systemClockOffset = clock - Date.now();
      return c.send(new GetResourcesCommand({ ResourcesPerPage: 1, PaginationToken: token }));
    };
    clock += 14 * 60 * 1000;
    const still = await send(token);
    assert.equal(still.ResourceTagMappingList?.length, 1);

    clock += 60 * 1000 + 1000;
    const err = await sdkError(send(token));
    assert.equal(err.name, "PaginationTokenExpiredException");
    assert.equal(err.status, 400);
    assert.match(err.message, /15 minutes/);

    // A fresh token works again.
    const fresh = await send();
    const next = await send(fresh.PaginationToken);
    assert.equal(next.ResourceTagMappingList?.length, 1);
  });
});
