import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import {
  DescribeReportCreationCommand,
  type ResourceGroupsTaggingAPIClient,
  StartReportCreationCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { ec2Arn, startServer, type TestServer, tag } from "../helpers.ts";
import { ORG_ID, orgConfig, policy, putPolicy, ROOT } from "../policy/org.ts";

/**
 * A small S3-compatible endpoint (path-style PutObject, NoSuchBucket), standing in for the external
 * object store that tagd talks to through the AWS SDK's S3 client.
 */
let s3: Server;
let endpoint: string;
const objects = new Map<string, { body: string; authorization?: string }>();
/** Every PUT received, by object key: a report written twice would show here. */
const puts = new Map<string, number>();
const BUCKETS = new Set(["reports"]);

before(async () => {
  s3 = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const [bucket = "", ...key] = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)
        .slice(1)
        .split("/");
      if (!BUCKETS.has(bucket)) {
        res.writeHead(404, { "content-type": "application/xml" });
        res.end(
          "<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>",
        );
        return;
      }
      if (req.method !== "PUT") {
        res.writeHead(501);
        res.end();
        return;
      }
      puts.set(`${bucket}/${key.join("/")}`, (puts.get(`${bucket}/${key.join("/")}`) ?? 0) + 1);
      objects.set(`${bucket}/${key.join("/")}`, {
        body: Buffer.concat(chunks).toString("utf8"),
        authorization: req.headers.authorization,
      });
      res.writeHead(200, { etag: '"etag"' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => s3.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(s3.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => s3.close(() => resolve())));

async function waitFor(c: ResourceGroupsTaggingAPIClient, status: string) {
  const until = Date.now() + 20_000;
  for (;;) {
    const out = await c.send(new DescribeReportCreationCommand({}));
    if (out.Status === status) return out;
    if (Date.now() > until)
      assert.fail(`report ${out.Status} (${out.ErrorMessage ?? ""}), expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("reports go to an S3-compatible endpoint when the configuration names one", async () => {
  const server: TestServer = await startServer({
    config: orgConfig({
      reports: { s3: { endpoint, accessKeyId: "report-writer", secretAccessKey: "report-secret" } },
    }),
  });
  try {
    await putPolicy(server, "cost", policy("costcenter", { tag_value: { "@@assign": ["1"] } }), [ROOT]);
    await tag(server.tagging(), [ec2Arn("i-0000000000000f201")], { costcenter: "2" });
    await server.tagging().send(new StartReportCreationCommand({ S3Bucket: "reports" }));
    const done = await waitFor(server.tagging(), "SUCCEEDED");
    const key = done.S3Location?.replace("s3://", "") ?? "";
    assert.match(
      key,
      new RegExp(
        `^reports/AwsTagPolicies/${ORG_ID}/\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ/report\\.csv$`,
      ),
    );
    const stored = objects.get(key);
    assert.ok(stored, `no object ${key} among ${[...objects.keys()]}`);
    assert.match(stored.authorization ?? "", /^AWS4-HMAC-SHA256 Credential=report-writer\//);
    const lines = stored.body.trim().split("\r\n");
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? "", /,false,,costcenter,/);

    await server.tagging().send(new StartReportCreationCommand({ S3Bucket: "missing-bucket" }));
    const failed = await waitFor(server.tagging(), "FAILED");
    assert.match(failed.ErrorMessage ?? "", /missing-bucket does not exist/);
  } finally {
    await server.stop(true);
  }
});

test("with two instances on one store, a report is written once", { timeout: 60_000 }, async () => {
  const config = orgConfig({
    reports: { s3: { endpoint, accessKeyId: "report-writer", secretAccessKey: "report-secret" } },
  });
  // Both instances run a report worker against the same database (SQLite file or PostgreSQL schema).
  const one: TestServer = await startServer({ config });
  const two: TestServer = await startServer({ config, dataDir: one.dataDir });
  try {
    await putPolicy(one, "cost", policy("costcenter", { tag_value: { "@@assign": ["1"] } }), [ROOT]);
    await tag(one.tagging(), [ec2Arn("i-0000000000000f301")], { costcenter: "2" });
    // Report keys carry a timestamp to the second: an earlier test's report may share this second's.
    puts.clear();
    for (let round = 0; round < 3; round++) {
      await (round % 2 ? two : one).tagging().send(new StartReportCreationCommand({ S3Bucket: "reports" }));
      const done = await waitFor(two.tagging(), "SUCCEEDED");
      const key = done.S3Location?.replace("s3://", "") ?? "";
      assert.equal(puts.get(key), 1, `${key} was written ${puts.get(key)} times`);
      // The next report gets a timestamp of its own.
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
  } finally {
    await two.stop();
    await one.stop(true);
  }
});
