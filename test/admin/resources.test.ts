import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import {
  GetResourcesCommand,
  GetTagKeysCommand,
  TagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { SLICED_MIN_CHARS } from "../../src/admin/bulk-json.ts";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ADMIN_TOKEN,
  ec2Arn,
  KEY_B,
  startServer,
  type TestServer,
  tag,
  testConfig,
} from "../helpers.ts";

const ALIBABA = "1000000000000001";
const CONFIG_BUCKET = "arn:aws:s3:::config-bucket";
const CONFIG_INSTANCE = ec2Arn("i-0fromconfig000001");

let server: TestServer;
before(async () => {
  server = await startServer({
    config: testConfig({
      inventory: "strict",
      resources: [
        { arn: CONFIG_INSTANCE },
        { arn: CONFIG_BUCKET, region: "us-east-1", accountId: ACCOUNT_A },
        {
          cloud: "alibaba",
          accountId: ALIBABA,
          region: "cn-hangzhou",
          service: "ecs",
          resourceType: "instance",
          resourceId: "i-bpconfig",
        },
      ],
    }),
  });
});
after(() => server.stop(true));

interface View {
  arn: string;
  cloud: string;
  accountId: string;
  region: string;
  service: string;
  resourceType: string;
  resourceId: string;
  resourceGroupId: string | null;
  state: string | null;
}

async function raw(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${server.url}${path}`, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "",
    body: text ? JSON.parse(text) : undefined,
  };
}

/** Every page of a listing, checking each page's size and that no resource appears twice. */
async function listAll(query: string, limit = 1000): Promise<View[]> {
  const out: View[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const sep = query ? "&" : "";
    const tokenPart: string = token ? `&nextToken=${encodeURIComponent(token)}` : "";
    const res = await server.admin("GET", `/admin/v1/resources?${query}${sep}limit=${limit}${tokenPart}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.resources.length <= limit);
    out.push(...res.body.resources);
    token = res.body.nextToken;
    if (token) assert.equal(res.body.resources.length, limit, "only the last page is short");
    pages++;
    assert.ok(pages < 1000);
  } while (token);
  assert.equal(new Set(out.map((r) => `${r.accountId}/${r.arn}`)).size, out.length, "no resource twice");
  return out;
}

test("the admin API wants the bearer token", async () => {
  const cases: [string, Record<string, string>][] = [
    ["no header", {}],
    ["wrong token", { authorization: "Bearer not-the-token" }],
    ["token with a suffix", { authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ["another scheme", { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}` }],
    ["bare token", { authorization: ADMIN_TOKEN }],
    ["empty bearer", { authorization: "Bearer " }],
  ];
  for (const [label, headers] of cases) {
    for (const [method, body] of [
      ["GET", undefined],
      ["POST", JSON.stringify({ resources: [{ arn: ec2Arn("i-0sneaky") }] })],
      ["DELETE", JSON.stringify({ resources: [{ arn: CONFIG_INSTANCE }] })],
    ] as const) {
      const res = await raw(method, "/admin/v1/resources", {
        body,
        headers: { ...headers, "content-type": "application/json" },
      });
      assert.equal(res.status, 401, `${label} ${method}`);
      assert.match(res.contentType, /application\/json/);
      assert.equal(res.body.error.code, "Unauthorized");
      assert.match(res.body.error.message, /Bearer/);
    }
  }
  // Nothing above got through.
  const all = await listAll("");
  assert.ok(!all.some((r) => r.arn === ec2Arn("i-0sneaky")));
  assert.ok(all.some((r) => r.arn === CONFIG_INSTANCE));
});

test("seed resources from the configuration are there at start", async () => {
  const all = await listAll("");
  const byArn = new Map(all.map((r) => [r.arn, r]));
  assert.deepEqual(byArn.get(CONFIG_INSTANCE), {
    arn: CONFIG_INSTANCE,
    cloud: "aws",
    accountId: ACCOUNT_A,
    region: "us-east-1",
    service: "ec2",
    resourceType: "instance",
    resourceId: "i-0fromconfig000001",
    resourceGroupId: null,
    state: null,
  });
  assert.equal(byArn.get(CONFIG_BUCKET)?.region, "us-east-1");
  assert.equal(byArn.get(CONFIG_BUCKET)?.accountId, ACCOUNT_A);
  assert.equal(byArn.get(`acs:ecs:cn-hangzhou:${ALIBABA}:instance/i-bpconfig`)?.cloud, "alibaba");

  // Strict inventory: the seeded instance can be tagged.
  const tagged = await server
    .tagging()
    .send(new TagResourcesCommand({ ResourceARNList: [CONFIG_INSTANCE], Tags: { seeded: "yes" } }));
  assert.deepEqual(tagged.FailedResourcesMap, {});
});

function bulk(n: number, offset = 0) {
  return Array.from({ length: n }, (_, j) => {
    const i = j + offset;
    switch (i % 4) {
      case 0:
        return { arn: ec2Arn(`i-bulk${i}`, ACCOUNT_A, i % 8 === 0 ? "us-east-1" : "us-west-2") };
      case 1:
        return { arn: `arn:aws:s3:::bulk-bucket-${i}`, region: "us-east-1", accountId: ACCOUNT_B };
      case 2:
        return {
          cloud: "aws",
          accountId: ACCOUNT_A,
          region: "eu-west-1",
          service: "ec2",
          resourceType: "volume",
          resourceId: `vol-${i}`,
        };
      default:
        return {
          cloud: "alibaba",
          accountId: ALIBABA,
          region: "cn-hangzhou",
          service: "ecs",
          resourceType: "instance",
          resourceId: `i-bp${i}`,
        };
    }
  });
}

test("10,000 resources in one call, then filters and pages over them", async () => {
  const resources = bulk(10_000);
  const created = await server.admin("POST", "/admin/v1/resources", { resources });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.deepEqual(created.body, { created: 10_000, updated: 0, tags: 0 });

  // Registering again updates resourceGroupId and state, and creates nothing.
  const again = resources.slice(0, 40).map((r, i) => ({
    ...r,
    ...(i % 2 === 0 ? { resourceGroupId: `rg-${i}` } : { state: "PendingDeletion" }),
  }));
  const updated = await server.admin("POST", "/admin/v1/resources", { resources: again });
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.deepEqual(updated.body, { created: 0, updated: 40, tags: 0 });

  const b = await listAll(`accountId=${ACCOUNT_B}`);
  assert.equal(b.length, 2500);
  assert.ok(b.every((r) => r.service === "s3" && r.resourceType === "bucket" && r.region === "us-east-1"));
  const s3 = b.find((r) => r.arn === "arn:aws:s3:::bulk-bucket-1");
  assert.equal(s3?.state, "PendingDeletion");
  assert.equal(b.find((r) => r.arn === "arn:aws:s3:::bulk-bucket-41")?.state, null);

  const alibaba = await listAll("cloud=alibaba", 700);
  assert.equal(alibaba.length, 2501); // and the one from the configuration
  assert.ok(alibaba.every((r) => r.accountId === ALIBABA && r.arn.startsWith("acs:ecs:cn-hangzhou:")));
  assert.equal(
    alibaba.find((r) => r.resourceId === "i-bp3")?.state,
    "PendingDeletion",
    "updates reach field-form resources",
  );

  const volumes = await listAll("region=eu-west-1&service=ec2&resourceType=volume");
  assert.equal(volumes.length, 2500);
  assert.equal(volumes.find((r) => r.resourceId === "vol-2")?.resourceGroupId, "rg-2");
  assert.equal(
    volumes.find((r) => r.resourceId === "vol-2")?.arn,
    `arn:aws:ec2:eu-west-1:${ACCOUNT_A}:volume/vol-2`,
  );

  const east = await listAll(`accountId=${ACCOUNT_A}&region=us-east-1&service=ec2&resourceType=instance`, 50);
  // Every 8th bulk instance, and the one from the configuration.
  assert.equal(east.length, 1251);
  assert.equal(east.find((r) => r.arn === ec2Arn("i-bulk0"))?.resourceGroupId, "rg-0");

  const aws = await listAll("cloud=aws");
  assert.equal(aws.length, 7502);

  const none = await server.admin("GET", "/admin/v1/resources?service=nothing");
  assert.deepEqual(none.body, { resources: [], nextToken: null });
});

test("bad listing parameters and tokens are refused", async () => {
  for (const q of ["limit=0", "limit=1001", "limit=abc", "limit=1.5", "limit=-1", "cloud=gcp", "bogus=1"]) {
    const res = await server.admin("GET", `/admin/v1/resources?${q}`);
    assert.equal(res.status, 400, q);
    assert.equal(res.body.error.code, "InvalidRequest");
    assert.match(res.body.error.message, new RegExp(q.split("=")[0] as string), q);
  }
  const first = await server.admin("GET", "/admin/v1/resources?cloud=aws&limit=2");
  const token: string = first.body.nextToken;
  assert.ok(token);

  const next = await server.admin(
    "GET",
    `/admin/v1/resources?cloud=aws&limit=2&nextToken=${encodeURIComponent(token)}`,
  );
  assert.equal(next.status, 200);
  assert.notDeepEqual(next.body.resources, first.body.resources);

  const tampered = [
    `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`,
    `x${token}`,
    token.split(".")[0] as string,
    `${Buffer.from(JSON.stringify({ c: "0", t: Date.now() })).toString("base64url")}.${token.split(".")[1]}`,
    "garbage",
  ];
  for (const t of tampered) {
    const res = await server.admin(
      "GET",
      `/admin/v1/resources?cloud=aws&limit=2&nextToken=${encodeURIComponent(t)}`,
    );
    assert.equal(res.status, 400, t);
    assert.equal(res.body.error.code, "InvalidNextToken");
  }
  // A token only continues the listing it was issued for.
  const other = await server.admin(
    "GET",
    `/admin/v1/resources?cloud=alibaba&limit=2&nextToken=${encodeURIComponent(token)}`,
  );
  assert.equal(other.status, 400);
});

test("an invalid entry fails the whole call, naming its index and field", async () => {
  const before = (await listAll("")).length;
  const good = bulk(10, 100_000);
  const cases: [unknown[], RegExp][] = [
    [[...good.slice(0, 7), { arn: "not-an-arn" }, ...good.slice(7)], /resources\[7\].*not-an-arn/],
    [[...good, { arn: 5 }], /resources\[10\]\.arn/],
    [[{ bogus: true }, ...good], /resources\[0\].*bogus/],
    [
      [...good.slice(0, 3), { arn: ec2Arn("i-elsewhere", "333333333333") }],
      /resources\[3\].*333333333333.*not configured/,
    ],
    [
      [...good.slice(0, 2), { arn: "arn:aws:s3:::no-account-given", region: "us-east-1" }],
      /resources\[2\].*accountId/,
    ],
    [
      [...good.slice(0, 2), { arn: "arn:aws:s3:::no-region-given", accountId: ACCOUNT_A }],
      /resources\[2\].*region/,
    ],
    [[...good.slice(0, 4), { arn: ec2Arn("i-mismatch"), accountId: ACCOUNT_B }], /resources\[4\].*accountId/],
    [
      [
        ...good.slice(0, 5),
        { cloud: "alibaba", accountId: ACCOUNT_A, region: "cn-hangzhou", service: "ecs", resourceId: "i-x" },
      ],
      /resources\[5\].*accountId/,
    ],
    [[...good.slice(0, 1), { cloud: "aws", accountId: ACCOUNT_A, region: "us-east-1" }], /resources\[1\]/],
    [[{ ...good[0], state: "" }], /resources\[0\]\.state/],
    [
      [
        ...good.slice(0, 2),
        {
          arn: `arn:aws:kms:us-east-1:${ACCOUNT_A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
          state: "Deleted",
        },
      ],
      /resources\[2\].*state Deleted is not a KMS key state \(Creating, Enabled, Disabled, PendingDeletion/,
    ],
    [[{ ...good[0], resourceGroupId: 7 }], /resources\[0\]\.resourceGroupId/],
    [
      [...good.slice(0, 3), { ...good[0], tags: { env: "prod", n: 5 } }],
      /resources\[3\]\.tags: "n": expected a string/,
    ],
    [[{ ...good[0], tags: ["env"] }], /resources\[0\]\.tags: expected an object .* received an array/],
    [[{ ...good[0], tags: null }], /resources\[0\]\.tags: .*received null/],
    [[...good.slice(0, 2), { ...good[0], tags: { "a\u0000b": "x" } }], /resources\[2\].*NUL character/],
    [[{ ...good[0], tags: { env: "pro\u0000d" } }], /resources\[0\].*NUL character/],
    [[{ ...good[0], tags: { env: "\ud800" } }], /resources\[0\].*unpaired surrogates/],
    [
      [{ ...good[0], resourceGroupId: "rg-\u0000" }],
      /resources\[0\]: resourceGroupId must not contain the NUL/,
    ],
    [
      [{ ...good[0], tags: { env: { nested: "x" } } }],
      /resources\[0\]\.tags: "env": expected a string value, received object/,
    ],
  ];
  for (const [resources, message] of cases) {
    const res = await server.admin("POST", "/admin/v1/resources", { resources });
    assert.equal(res.status, 400, JSON.stringify(resources).slice(0, 200));
    assert.match(res.body.error.message, message);
  }
  for (const body of [{}, { resources: [] }, { resources: "x" }, [], { resources: good, extra: 1 }]) {
    const res = await server.admin("POST", "/admin/v1/resources", body);
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 100));
    assert.equal(res.body.error.code, "InvalidRequest");
  }
  // A wrong shape and a wrong entry: the message names both.
  const both = await server.admin("POST", "/admin/v1/resources", {
    resources: [...good.slice(0, 2), { arn: 5 }],
    extra: 1,
  });
  assert.equal(both.status, 400);
  assert.match(both.body.error.message, /resources\[2\]\.arn/);
  assert.match(both.body.error.message, /extra/);
  assert.equal((await listAll("")).length, before, "nothing was written");
});

test("a body that is not JSON gets a 400", async () => {
  for (const [method, body] of [
    ["POST", "{"],
    ["POST", "resources=1"],
    ["DELETE", "{'resources': []}"],
  ] as const) {
    const res = await raw(method, "/admin/v1/resources", {
      body,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    });
    assert.equal(res.status, 400, `${method} ${body}`);
    assert.equal(res.body.error.code, "InvalidJson");
    assert.match(res.body.error.message, /JSON/);
  }
  const noBody = await raw("POST", "/admin/v1/resources", {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(noBody.status, 400);
  assert.ok(noBody.body.error.message);
});

test("the same resource twice in one call is registered once", async () => {
  const arn = ec2Arn("i-0twice000000001");
  const res = await server.admin("POST", "/admin/v1/resources", {
    resources: [{ arn }, { arn, resourceGroupId: "rg-twice" }],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { created: 1, updated: 0, tags: 0 });
  const listed = (await listAll("region=us-east-1&service=ec2")).filter((r) => r.arn === arn);
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.resourceGroupId, "rg-twice");
});

test("a resource given three times in one call merges in order: later states, groups and tag values win", async () => {
  const arn = ec2Arn("i-0thrice00000001", ACCOUNT_A, "eu-west-3");
  const other = ec2Arn("i-0thrice00000002", ACCOUNT_A, "eu-west-3");
  const res = await server.admin("POST", "/admin/v1/resources", {
    resources: [
      { arn, state: "running", tags: { a: "1", b: "1" } },
      { arn: other, tags: { a: "other" } },
      { arn, resourceGroupId: "rg-thrice", tags: { b: "2", c: "2" } },
      { arn, state: "stopped", tags: { c: "3", a: "3" } },
    ],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { created: 2, updated: 0, tags: 4 });
  const listed = (await listAll("region=eu-west-3&service=ec2")).filter((r) => r.arn === arn);
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.resourceGroupId, "rg-thrice");
  assert.equal(listed[0]?.state, "stopped");
  const got = await server
    .tagging("eu-west-3")
    .send(new GetResourcesCommand({ ResourceARNList: [arn, other] }));
  assert.deepEqual(
    got.ResourceTagMappingList?.map((m) => [m.ResourceARN, m.Tags]),
    [
      [
        arn,
        [
          { Key: "a", Value: "3" },
          { Key: "b", Value: "2" },
          { Key: "c", Value: "3" },
        ],
      ],
      [other, [{ Key: "a", Value: "other" }]],
    ],
  );
});

test("strict inventory: registered resources can be tagged, unregistered ones cannot", async () => {
  const registered = ec2Arn("i-0registered00001", ACCOUNT_B);
  const unregistered = ec2Arn("i-0unregistered001", ACCOUNT_B);
  const res = await server.admin("POST", "/admin/v1/resources", { resources: [{ arn: registered }] });
  assert.deepEqual(res.body, { created: 1, updated: 0, tags: 0 });

  const client = server.tagging("us-east-1", KEY_B);
  const tagged = await client.send(
    new TagResourcesCommand({ ResourceARNList: [registered, unregistered], Tags: { strict: "yes" } }),
  );
  assert.deepEqual(Object.keys(tagged.FailedResourcesMap ?? {}), [unregistered]);
  assert.equal(tagged.FailedResourcesMap?.[unregistered]?.StatusCode, 400);

  const listed = await client.send(new GetResourcesCommand({ TagFilters: [{ Key: "strict" }] }));
  assert.deepEqual(
    listed.ResourceTagMappingList?.map((m) => m.ResourceARN),
    [registered],
  );
  assert.ok(!(await listAll(`accountId=${ACCOUNT_B}&service=ec2`)).some((r) => r.arn === unregistered));
});

test("DELETE removes resources and their tags", async () => {
  const client = server.tagging("us-west-2");
  const arns = [
    ec2Arn("i-0doomed000000001", ACCOUNT_A, "us-west-2"),
    ec2Arn("i-0doomed000000002", ACCOUNT_A, "us-west-2"),
  ];
  const bucket = "arn:aws:s3:::doomed-bucket";
  const reg = await server.admin("POST", "/admin/v1/resources", {
    resources: [...arns.map((arn) => ({ arn })), { arn: bucket, region: "us-west-2", accountId: ACCOUNT_A }],
  });
  assert.deepEqual(reg.body, { created: 3, updated: 0, tags: 0 });
  const tagged = await client.send(
    new TagResourcesCommand({
      ResourceARNList: [...arns, bucket],
      Tags: { doomed: "yes", [`only-${arns.length}`]: "x" },
    }),
  );
  assert.deepEqual(tagged.FailedResourcesMap, {});
  const keysBefore = await client.send(new GetTagKeysCommand({}));
  assert.ok(keysBefore.TagKeys?.includes("doomed"));

  // A region-less ARN needs no region to be deleted; an unknown resource counts as not deleted.
  const del = await server.admin("DELETE", "/admin/v1/resources", {
    resources: [
      ...arns.map((arn) => ({ arn })),
      { arn: bucket, accountId: ACCOUNT_A },
      { arn: ec2Arn("i-0neverthere") },
    ],
  });
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assert.deepEqual(del.body, { deleted: 3 });

  const keysAfter = await client.send(new GetTagKeysCommand({}));
  assert.ok(!keysAfter.TagKeys?.includes("doomed"), JSON.stringify(keysAfter.TagKeys));
  assert.ok(!keysAfter.TagKeys?.includes("only-2"));
  const listed = await client.send(new GetResourcesCommand({}));
  assert.ok(!listed.ResourceTagMappingList?.some((m) => [...arns, bucket].includes(m.ResourceARN as string)));
  const inventory = await listAll(`accountId=${ACCOUNT_A}&region=us-west-2`);
  assert.ok(!inventory.some((r) => [...arns, bucket].includes(r.arn)));

  // Deregistered in a strict inventory: no longer taggable.
  const retag = await client.send(
    new TagResourcesCommand({ ResourceARNList: [arns[0] as string], Tags: { back: "no" } }),
  );
  assert.deepEqual(Object.keys(retag.FailedResourcesMap ?? {}), [arns[0]]);

  const bad = await server.admin("DELETE", "/admin/v1/resources", {
    resources: [{ arn: CONFIG_INSTANCE }, { arn: "nope" }, { arn: "arn:aws:s3:::no-account" }],
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /resources\[1\]/);
  assert.match(bad.body.error.message, /resources\[2\].*accountId/);
  assert.ok(
    (await listAll("")).some((r) => r.arn === CONFIG_INSTANCE),
    "nothing was deleted",
  );
});

test("without an adminToken the admin API is disabled", async () => {
  const config = testConfig();
  const other = await startServer({ config: { ...config, adminToken: undefined } });
  try {
    const res = await other.admin("GET", "/admin/v1/resources");
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, "AdminDisabled");
  } finally {
    await other.stop(true);
  }
});

test("resources can be imported with their tags, system tags included, within the cloud's limits", async () => {
  const arn = ec2Arn("i-0imported0000001", ACCOUNT_A, "eu-north-1");
  const post = await server.admin("POST", "/admin/v1/resources", {
    resources: [{ arn, tags: { env: "prod", "aws:cloudformation:stack-name": "web" } }],
  });
  assert.equal(post.status, 200);
  assert.deepEqual(post.body, { created: 1, updated: 0, tags: 2 });
  const client = server.tagging("eu-north-1");
  const got = await client.send(new GetResourcesCommand({ TagFilters: [{ Key: "env", Values: ["prod"] }] }));
  assert.deepEqual(got.ResourceTagMappingList, [
    {
      ResourceARN: arn,
      Tags: [
        { Key: "aws:cloudformation:stack-name", Value: "web" },
        { Key: "env", Value: "prod" },
      ],
    },
  ]);
  assert.deepEqual((await client.send(new GetTagKeysCommand({}))).TagKeys, [
    "aws:cloudformation:stack-name",
    "env",
  ]);

  const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
  const refused = await server.admin("POST", "/admin/v1/resources", { resources: [{ arn, tags: tooMany }] });
  assert.equal(refused.status, 400);
  assert.match(refused.body.error.message, /resources\[0\].*at most 50/);
  // Merging past the limit is refused too, and nothing of the call is written.
  const merged = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`m${i}`, "v"]));
  const over = await server.admin("POST", "/admin/v1/resources", {
    resources: [
      { arn: ec2Arn("i-0importedother01", ACCOUNT_A, "eu-north-1"), tags: { x: "1" } },
      { arn, tags: merged },
    ],
  });
  assert.equal(over.status, 400);
  assert.match(over.body.error.message, /51 tags; at most 50/);
  assert.deepEqual((await client.send(new GetTagKeysCommand({}))).TagKeys, [
    "aws:cloudformation:stack-name",
    "env",
  ]);

  const longValue = await server.admin("POST", "/admin/v1/resources", {
    resources: [{ arn, tags: { k: "v".repeat(257) } }],
  });
  assert.equal(longValue.status, 400);
  assert.match(longValue.body.error.message, /resources\[0\]: tag "k"/);
});

test("reads sent while a large import call is written are answered before it ends", async () => {
  // A server of its own: the call's 20,000 resources stay out of the other tests' counts.
  const own = await startServer();
  try {
    const client = own.tagging();
    await tag(client, [ec2Arn("i-0beforeimport001")], { env: "prod" });
    const resources = Array.from({ length: 20_000 }, (_, i) => ({
      arn: ec2Arn(`i-0import${String(i).padStart(9, "0")}`),
      tags: { team: `team-${i % 50}`, owner: `owner-${i % 700}`, Name: `resource-${i}` },
    }));
    const body = JSON.stringify({ resources });
    const order: string[] = [];
    const url = new URL(`${own.url}/admin/v1/resources`);
    let sendRead: () => void = () => {};
    const readSent = new Promise<void>((resolve) => (sendRead = resolve));
    const imported = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => {
            order.push("import");
            resolve({ status: res.statusCode ?? 0, text });
          });
        },
      );
      req.on("error", reject);
      // The read goes out once the whole body is with tagd (and a little later), when the call is
      // being worked on; before, tagd answered nothing else until the call was written.
      req.end(body, () => setTimeout(sendRead, 20));
    });
    await readSent;
    const keys = await client.send(new GetTagKeysCommand({}));
    order.push("read");
    assert.deepEqual(keys.TagKeys, ["env"], "the read sees what was committed before the call");
    const done = await imported;
    assert.equal(done.status, 200, done.text);
    assert.deepEqual(JSON.parse(done.text), { created: 20_000, updated: 0, tags: 60_000 });
    assert.deepEqual(order, ["read", "import"]);
    assert.deepEqual((await client.send(new GetTagKeysCommand({}))).TagKeys, [
      "Name",
      "env",
      "owner",
      "team",
    ]);
  } finally {
    await own.stop(true);
  }
});

test("a large call's body is read in pieces: its values arrive intact, its problems keep their places", async () => {
  // Over SLICED_MIN_CHARS, with values that look like the JSON around them.
  const awkward = ['say "hi"', "a\\b\\", "},{", '"],"x":[', "[[ ]]", "a, b", '\\"}', "ünï ☃"];
  const resources = Array.from({ length: 3000 }, (_, i) => ({
    arn: ec2Arn(`i-0pieces${String(i).padStart(9, "0")}`, ACCOUNT_A, "ap-south-2"),
    tags: { "piece-test": `${awkward[i % awkward.length]} ${i} ${"p".repeat(100)}`, n: String(i) },
  }));
  const text = JSON.stringify({ resources });
  assert.ok(text.length > SLICED_MIN_CHARS * 1.5, `${text.length} characters`);
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };

  // A problem in a later piece is named by its place in the whole body.
  const bad = JSON.stringify({ resources: resources.map((r, i) => (i === 2500 ? { ...r, region: "" } : r)) });
  const refused = await raw("POST", "/admin/v1/resources", { body: bad, headers });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, "InvalidRequest");
  assert.match(refused.body.error.message, /^resources\[2500\]\.region: /);
  // A broken large body is refused with JSON.parse's own message.
  const broken = text.replace(/\},\{/g, (m, at: number) => (at > 400_000 && at < 400_400 ? "},,{" : m));
  assert.notEqual(broken, text);
  const notJson = await raw("POST", "/admin/v1/resources", { body: broken, headers });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.error.code, "InvalidJson");
  assert.match(notJson.body.error.message, /JSON/);

  const post = await raw("POST", "/admin/v1/resources", { body: text, headers });
  assert.equal(post.status, 200, JSON.stringify(post.body));
  assert.deepEqual(post.body, { created: 3000, updated: 0, tags: 6000 });
  const client = server.tagging("ap-south-2");
  const seen = new Map<string, Record<string, string>>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new GetResourcesCommand({ TagFilters: [{ Key: "piece-test" }], PaginationToken: token }),
    );
    for (const m of page.ResourceTagMappingList ?? [])
      seen.set(m.ResourceARN ?? "", Object.fromEntries((m.Tags ?? []).map((t) => [t.Key, t.Value])));
    token = page.PaginationToken || undefined;
  } while (token);
  assert.equal(seen.size, 3000);
  for (const r of resources) assert.deepEqual(seen.get(r.arn), r.tags, r.arn);
});
