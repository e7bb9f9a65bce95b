import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AddTagsRequest, AddTagsRequestTag, ListTagResourcesRequest } from "@alicloud/ecs20140526";
import {
  ALIBABA_KEY,
  ALIBABA_SIGNATURES,
  aliError,
  ecsTagsOf,
  KEY_A,
  startServer,
  type TestServer,
  withTwoInstances,
} from "../helpers.ts";
import { ENGINES } from "../store/engines.ts";
import { type Captured, recordingProxy, send, withHeader } from "./wire.ts";

const REGION = "cn-hangzhou";

function addTags(id: string, key = "env", value = "prod") {
  return new AddTagsRequest({
    regionId: REGION,
    resourceType: "instance",
    resourceId: id,
    tag: [new AddTagsRequestTag({ key, value })],
  });
}

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

/** Sends one AddTags (or `call`) through a recording proxy and returns the request the SDK made. */
async function capture(
  options: (typeof ALIBABA_SIGNATURES)[number]["options"],
  id: string,
  call: (client: ReturnType<TestServer["ecs"]>) => Promise<unknown> = (client) => client.addTags(addTags(id)),
): Promise<Captured> {
  const proxy = await recordingProxy(server);
  try {
    const port = new URL(proxy.url).port;
    const client = server.ecs(REGION, undefined, options);
    // Point the client at the proxy: the SDK signs the proxy's host, which the proxy passes on.
    client._endpoint = `127.0.0.1:${port}`;
    await call(client);
    assert.equal(proxy.captured.length, 1);
    return proxy.captured[0] as Captured;
  } finally {
    await proxy.close();
  }
}

for (const { name, options } of ALIBABA_SIGNATURES) {
  const sig = name.startsWith("v1") ? "v1" : "acs3";
  describe(`Alibaba signatures: ${name}`, () => {
    test("the SDK's signed request is accepted", async () => {
      await server.ecs(REGION, undefined, options).addTags(addTags(`i-${sig}ok`));
      assert.deepEqual(await ecsTagsOf(server, `i-${sig}ok`), { env: "prod" });
    });

    test("a wrong secret is SignatureDoesNotMatch (400) and changes nothing", async () => {
      const err = await aliError(
        server
          .ecs(REGION, { ...ALIBABA_KEY, accessKeySecret: "not-the-secret" }, options)
          .addTags(addTags(`i-${sig}badsecret`)),
      );
      assert.equal(err.code, "SignatureDoesNotMatch");
      assert.equal(err.status, 400);
      assert.match(
        err.data.Message,
        /^Specified signature is not matched with our calculation\. server string to sign is:/,
      );
      assert.equal(await ecsTagsOf(server, `i-${sig}badsecret`), undefined);
    });

    test("an unknown access key is InvalidAccessKeyId.NotFound (404)", async () => {
      const err = await aliError(
        server
          .ecs(REGION, { accessKeyId: "LTAInobody", accessKeySecret: "x" }, options)
          .addTags(addTags(`i-${sig}nokey`)),
      );
      assert.equal(err.code, "InvalidAccessKeyId.NotFound");
      assert.equal(err.status, 404);
      assert.equal(err.data.Message, "Specified access key is not found.");
    });

    test("an AWS access key is not an Alibaba key: InvalidAccessKeyId.NotFound (404)", async () => {
      const err = await aliError(
        server
          .ecs(REGION, { accessKeyId: KEY_A.accessKeyId, accessKeySecret: KEY_A.secretAccessKey }, options)
          .addTags(addTags(`i-${sig}awskey`)),
      );
      assert.equal(err.code, "InvalidAccessKeyId.NotFound");
      assert.equal(err.status, 404);
    });

    test("a replayed request is SignatureNonceUsed (400) and changes nothing", async () => {
      const first = await capture(options, `i-${sig}replay`);
      await server.ecs(REGION, undefined, options).addTags(addTags(`i-${sig}replay`, "env", "later"));
      const again = await send(server.url, first);
      assert.equal(again.status, 400);
      assert.equal(again.body.Code, "SignatureNonceUsed");
      assert.equal(again.body.Message, "Specified signature nonce was used already.");
      assert.deepEqual(await ecsTagsOf(server, `i-${sig}replay`), { env: "later" });
    });

    test("a replayed read is SignatureNonceUsed (400), without what the read found", async () => {
      // A read runs while its nonce is recorded (readOnly actions); the nonce's verdict still decides.
      await server.ecs(REGION, undefined, options).addTags(addTags(`i-${sig}readreplay`, "secret", "s3cr3t"));
      const list = (client: ReturnType<TestServer["ecs"]>) =>
        client.listTagResources(
          new ListTagResourcesRequest({
            regionId: REGION,
            resourceType: "instance",
            resourceId: [`i-${sig}readreplay`],
          }),
        );
      const first = await capture(options, `i-${sig}readreplay`, list);
      const again = await send(server.url, first);
      assert.equal(again.status, 400);
      assert.equal(again.body.Code, "SignatureNonceUsed");
      assert.equal(again.body.TagResources, undefined);
      assert.doesNotMatch(JSON.stringify(again.body), /s3cr3t/);
      // A read the action refuses, replayed: the replay is what answers, not the read's own error.
      const refused = await capture(options, `i-${sig}readreplay`, (client) =>
        client
          .listTagResources(new ListTagResourcesRequest({ regionId: REGION, resourceType: "nonsense" }))
          .catch((err: { code?: string }) => assert.equal(err.code, "InvalidResourceType.NotFound")),
      );
      const refusedAgain = await send(server.url, refused);
      assert.equal(refusedAgain.status, 400);
      assert.equal(refusedAgain.body.Code, "SignatureNonceUsed");
    });

    test("a tampered parameter is SignatureDoesNotMatch (400)", async () => {
      const req = await capture(options, `i-${sig}tamper`);
      const tampered = { ...req, url: req.url.replace("Tag.1.Value=prod", "Tag.1.Value=evil") };
      assert.notEqual(tampered.url, req.url);
      // The nonce was used by the original: a fresh one, so only the signature can fail.
      const fresh = sig === "v1" ? tampered : withHeader(tampered, "x-acs-signature-nonce", `n${Date.now()}`);
      const out = await send(
        server.url,
        sig === "v1"
          ? { ...fresh, url: fresh.url.replace(/SignatureNonce=[^&]+/, `SignatureNonce=n${Date.now()}`) }
          : fresh,
      );
      assert.equal(out.status, 400);
      assert.equal(out.body.Code, "SignatureDoesNotMatch");
      assert.equal((await ecsTagsOf(server, `i-${sig}tamper`))?.["env"], "prod");
    });
  });
}

describe("ACS3 specifics", () => {
  test("an x-acs-content-sha256 that is not the body's hash is SignatureDoesNotMatch (400)", async () => {
    const req = await capture({}, "i-acs3body");
    // The content type is signed; the body is not, but its hash is.
    const out = await send(server.url, {
      ...withHeader(req, "x-acs-signature-nonce", "n-body"),
      body: Buffer.from("Tag.2.Key=smuggled&Tag.2.Value=x"),
    });
    assert.equal(out.status, 400);
    assert.equal(out.body.Code, "SignatureDoesNotMatch");
    assert.deepEqual(await ecsTagsOf(server, "i-acs3body"), { env: "prod" });
  });

  test("an x-acs-* header left out of SignedHeaders is IncompleteSignature (400)", async () => {
    const req = await capture({}, "i-acs3unsigned");
    const out = await send(server.url, withHeader(req, "x-acs-extra", "1"));
    assert.equal(out.status, 400);
    assert.equal(out.body.Code, "IncompleteSignature");
    assert.match(out.body.Message, /x-acs-extra/);
  });

  test("an algorithm other than ACS3-HMAC-SHA256 is IncompleteSignature (400)", async () => {
    const req = await capture({}, "i-acs3alg");
    const auth = req.headers.find(([n]) => n.toLowerCase() === "authorization")?.[1] ?? "";
    const out = await send(
      server.url,
      withHeader(req, "Authorization", auth.replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3")),
    );
    assert.equal(out.status, 400);
    assert.equal(out.body.Code, "IncompleteSignature");
  });

  test("an x-acs-action other than the signed one is refused", async () => {
    const req = await capture({}, "i-acs3action");
    const out = await send(server.url, withHeader(req, "x-acs-action", "RemoveTags"));
    assert.equal(out.status, 400);
    assert.ok(["SignatureDoesNotMatch", "IncompleteSignature"].includes(out.body.Code), out.body.Code);
  });
});

describe("clock skew", () => {
  for (const [label, offset] of [
    ["16 minutes behind", 16 * 60_000],
    ["16 minutes ahead", -16 * 60_000],
  ] as const) {
    test(`a request ${label} the server is InvalidTimeStamp.Expired (400), with both signatures`, async () => {
      const skewed = await startServer({ now: () => Date.now() + offset });
      try {
        for (const { options } of ALIBABA_SIGNATURES) {
          const err = await aliError(skewed.ecs(REGION, undefined, options).addTags(addTags("i-skew")));
          assert.equal(err.code, "InvalidTimeStamp.Expired");
          assert.equal(err.status, 400);
          assert.equal(err.data.Message, "Specified time stamp or date value is expired.");
        }
        assert.equal(await ecsTagsOf(skewed, "i-skew"), undefined);
      } finally {
        await skewed.stop(true);
      }
    });
  }

  test("14 minutes off is still accepted", async () => {
    const skewed = await startServer({ now: () => Date.now() + 14 * 60_000 });
    try {
      await skewed.ecs().addTags(addTags("i-skew14"));
      assert.deepEqual(await ecsTagsOf(skewed, "i-skew14"), { env: "prod" });
    } finally {
      await skewed.stop(true);
    }
  });
});

describe("a nonce is refused by every instance on one store", () => {
  // The engine of this pass (startServer follows TAGD_TEST_ENGINE): SQLite first, PostgreSQL in the
  // second pass of scripts/test.mjs.
  const current = process.env.TAGD_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";
  for (const engine of ENGINES.filter((e) => e.name === current)) {
    test(engine.name, { skip: engine.skip }, async () => {
      await withTwoInstances(engine, async (one, two) => {
        const proxy = await recordingProxy(one);
        try {
          const client = one.ecs();
          client._endpoint = new URL(proxy.url).host;
          await client.addTags(addTags("i-twoinstances"));
          const replay = await send(two.url, proxy.captured[0] as Captured);
          assert.equal(replay.status, 400);
          assert.equal(replay.body.Code, "SignatureNonceUsed");
        } finally {
          await proxy.close();
        }
      });
    });
  }
});
