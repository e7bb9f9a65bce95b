import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DescribeReportCreationCommand,
  type ResourceGroupsTaggingAPIClient,
  StartReportCreationCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { REPORT_JOB } from "../../src/domain/reports.ts";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ec2Arn,
  KEY_B,
  sdkError,
  startServer,
  type TestServer,
  tag,
} from "../helpers.ts";
import { ACCOUNT_C, KEY_C, ORG_ID, orgConfig, policy, putPolicy, ROOT } from "../policy/org.ts";

const COST = policy("costcenter", {
  tag_key: { "@@assign": "CostCenter" },
  tag_value: { "@@assign": ["100"] },
});

/** A minimal RFC 4180 reader: quoted cells may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  assert.equal(cell, "", "the report ends with a line break");
  return rows;
}

async function describeReport(c: ResourceGroupsTaggingAPIClient) {
  const out = await c.send(new DescribeReportCreationCommand({}));
  assert.equal(out.$metadata.httpStatusCode, 200);
  return out;
}

async function waitFor(c: ResourceGroupsTaggingAPIClient, status: string, ms = 20_000) {
  const until = Date.now() + ms;
  for (;;) {
    const out = await describeReport(c);
    if (out.Status === status) return out;
    if (Date.now() > until)
      assert.fail(`report still ${out.Status} (${out.ErrorMessage ?? ""}), expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readReport(dataDir: string, location: string): string[][] {
  const m = location.match(/^s3:\/\/([^/]+)\/(.+)$/);
  assert.ok(m, location);
  return parseCsv(
    readFileSync(join(dataDir, "buckets", m[1] as string, ...(m[2] as string).split("/")), "utf8"),
  );
}

describe("StartReportCreation and DescribeReportCreation", () => {
  let server: TestServer;
  let clock = Date.now();
  before(async () => {
    server = await startServer({ config: orgConfig(), now: () => clock });
  });
  after(() => server.stop(true));

  test("restrictions: a tag policy attached, the management account, us-east-1", async () => {
    for (const send of [
      () => server.tagging().send(new StartReportCreationCommand({ S3Bucket: "reports" })),
      () => server.tagging().send(new DescribeReportCreationCommand({})),
    ]) {
      const err = await sdkError(send());
      assert.equal(err.name, "ConstraintViolationException");
      assert.equal(err.status, 400);
    }
    await putPolicy(server, "cost", COST, [ROOT]);
    for (const c of [server.tagging("us-east-1", KEY_B), server.tagging("eu-west-1")]) {
      const err = await sdkError(c.send(new StartReportCreationCommand({ S3Bucket: "reports" })));
      assert.equal(err.name, "ConstraintViolationException");
      const described = await sdkError(c.send(new DescribeReportCreationCommand({})));
      assert.equal(described.name, "ConstraintViolationException");
    }
  });

  test("NO REPORT before any report", async () => {
    assert.deepEqual((await describeReport(server.tagging())).Status, "NO REPORT");
  });

  test("S3Bucket is validated: 3 to 63 characters of [a-z0-9.-], required", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: a request without the required member.
    for (const S3Bucket of ["ab", "x".repeat(64), "Reports", "my_bucket", undefined as any]) {
      const err = await sdkError(server.tagging().send(new StartReportCreationCommand({ S3Bucket })));
      assert.equal(err.name, "InvalidParameterException", String(S3Bucket));
      assert.equal(err.status, 400);
    }
    assert.equal((await describeReport(server.tagging())).Status, "NO REPORT");
  });

  test("end to end: one CSV row per tagged resource across the organization", async () => {
    await tag(server.tagging(), [ec2Arn("i-0000000000000f001")], { CostCenter: "100", "a,b": 'say "hi"' });
    await tag(server.tagging(), [ec2Arn("i-0000000000000f002")], { costcenter: "100" });
    await tag(server.tagging("us-east-1", KEY_B), [ec2Arn("i-0000000000000f003", ACCOUNT_B)], {
      CostCenter: "7",
    });
    await tag(server.tagging("eu-west-1", KEY_C), [ec2Arn("i-0000000000000f004", ACCOUNT_C, "eu-west-1")], {
      owner: "c",
    });
    // Enough resources for several pages of the report's scan.
    const many = Array.from({ length: 2500 }, (_, i) => ({
      arn: ec2Arn(`i-${(0xa000000 + i).toString(16).padStart(17, "0")}`, ACCOUNT_B),
      tags: { CostCenter: i % 2 ? "100" : "999" },
    }));
    assert.equal((await server.admin("POST", "/admin/v1/resources", { resources: many })).status, 200);

    mkdirSync(join(server.dataDir, "buckets", "org-reports"), { recursive: true });
    const started = await server.tagging().send(new StartReportCreationCommand({ S3Bucket: "org-reports" }));
    assert.equal(started.$metadata.httpStatusCode, 200);
    const done = await waitFor(server.tagging(), "SUCCEEDED");
    const stamp = new Date(clock).toISOString().replace(/\.\d{3}Z$/, "Z");
    assert.equal(done.S3Location, `s3://org-reports/AwsTagPolicies/${ORG_ID}/${stamp}/report.csv`);
    const [header, ...rows] = readReport(server.dataDir, done.S3Location ?? "");
    assert.deepEqual(header, [
      "AccountId",
      "Region",
      "ResourceType",
      "ResourceArn",
      "ComplianceStatus",
      "NoncompliantKeys",
      "KeysWithNoncompliantValues",
      "Tags",
    ]);
    assert.equal(rows.length, 2504);
    const byArn = new Map(rows.map((r) => [r[3], r]));
    assert.deepEqual(byArn.get(ec2Arn("i-0000000000000f001")), [
      ACCOUNT_A,
      "us-east-1",
      "ec2:instance",
      ec2Arn("i-0000000000000f001"),
      "true",
      "",
      "",
      JSON.stringify({ CostCenter: "100", "a,b": 'say "hi"' }),
    ]);
    assert.deepEqual(byArn.get(ec2Arn("i-0000000000000f002"))?.slice(4, 7), ["false", "costcenter", ""]);
    assert.deepEqual(byArn.get(ec2Arn("i-0000000000000f003", ACCOUNT_B))?.slice(4, 7), [
      "false",
      "",
      "CostCenter",
    ]);
    assert.deepEqual(byArn.get(ec2Arn("i-0000000000000f004", ACCOUNT_C, "eu-west-1"))?.slice(0, 5), [
      ACCOUNT_C,
      "eu-west-1",
      "ec2:instance",
      ec2Arn("i-0000000000000f004", ACCOUNT_C, "eu-west-1"),
      "true",
    ]);
    assert.equal(rows.filter((r) => r[0] === ACCOUNT_B && r[4] === "false").length, 1251);
  });

  test("a missing bucket: FAILED with an ErrorMessage; the next report may start", async () => {
    clock += 2000;
    await server.tagging().send(new StartReportCreationCommand({ S3Bucket: "no-such-bucket" }));
    const failed = await waitFor(server.tagging(), "FAILED");
    assert.match(failed.ErrorMessage ?? "", /no-such-bucket does not exist/);
    assert.equal(failed.S3Location, undefined);
  });

  test("NO REPORT when the last one is older than 90 days", async () => {
    const days91 = 91 * 24 * 3600 * 1000;
    clock += days91;
    const c = server.tagging();
    // The client signs with tagd's clock, which the test moved on (SigV4 refuses a skewed request).
    c.config.systemClockOffset = clock - Date.now();
    assert.equal((await describeReport(c)).Status, "NO REPORT");
  });
});

describe("a report is a job in the store", () => {
  test("RUNNING until written; a second start is refused; it survives a restart", async () => {
    const first = await startServer({ config: orgConfig(), reportWorker: false });
    await putPolicy(first, "cost", COST, [ROOT]);
    await tag(first.tagging(), [ec2Arn("i-0000000000000f101")], { CostCenter: "1" });
    mkdirSync(join(first.dataDir, "buckets", "reports"), { recursive: true });
    await first.tagging().send(new StartReportCreationCommand({ S3Bucket: "reports" }));
    assert.equal((await describeReport(first.tagging())).Status, "RUNNING");
    const again = await sdkError(
      first.tagging().send(new StartReportCreationCommand({ S3Bucket: "reports" })),
    );
    assert.equal(again.name, "ConcurrentModificationException");
    assert.equal(again.status, 400);
    await first.stop();
    const second = await startServer({ config: orgConfig(), dataDir: first.dataDir });
    try {
      const done = await waitFor(second.tagging(), "SUCCEEDED");
      const rows = readReport(second.dataDir, done.S3Location ?? "");
      assert.equal(rows.length, 2);
      assert.equal(rows[1]?.[4], "false");
    } finally {
      await second.stop(true);
    }
  });

  test("a report claimed by an instance that died is taken over once its claim lapses", async () => {
    const first = await startServer({ config: orgConfig(), reportWorker: false });
    await putPolicy(first, "cost", COST, [ROOT]);
    mkdirSync(join(first.dataDir, "buckets", "reports"), { recursive: true });
    await first.tagging().send(new StartReportCreationCommand({ S3Bucket: "reports" }));
    const claimed = await first.tagd.store.jobs.claim(REPORT_JOB, "instance-that-dies", Date.now(), 60_000);
    assert.ok(claimed);
    await first.stop();
    const second = await startServer({ config: orgConfig(), dataDir: first.dataDir, reportLeaseMs: 300 });
    try {
      const done = await waitFor(second.tagging(), "SUCCEEDED");
      assert.deepEqual(readReport(second.dataDir, done.S3Location ?? "")[1], undefined);
      const job = await second.tagd.store.jobs.latest(ACCOUNT_A, REPORT_JOB);
      assert.notEqual(job?.claimedBy, "instance-that-dies");
    } finally {
      await second.stop(true);
    }
  });
});
