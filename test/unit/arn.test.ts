import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { impliedRegion, type ParsedArn, parseArn, unsupportedReason } from "../../src/domain/arn.ts";

const ACCOUNT = "123456789012";

function parsed(arn: string): ParsedArn {
  const result = parseArn(arn);
  assert.ok(result.ok, `expected ${arn} to parse, got: ${result.ok ? "" : result.reason}`);
  return result.value;
}

type Parts = Omit<ParsedArn, "arn"> & { impliedRegion: string | null };

const VALID: [number, string, Parts][] = [
  [
    1,
    `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc`,
    {
      partition: "aws",
      service: "ec2",
      region: "us-east-1",
      accountId: ACCOUNT,
      resourceType: "instance",
      resourceId: "i-0abc",
      impliedRegion: "us-east-1",
    },
  ],
  [
    2,
    `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:my-function`,
    {
      partition: "aws",
      service: "lambda",
      region: "eu-west-1",
      accountId: ACCOUNT,
      resourceType: "function",
      resourceId: "my-function",
      impliedRegion: "eu-west-1",
    },
  ],
  [
    3,
    `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:my-function:live`,
    {
      partition: "aws",
      service: "lambda",
      region: "eu-west-1",
      accountId: ACCOUNT,
      resourceType: "function",
      resourceId: "my-function:live",
      impliedRegion: "eu-west-1",
    },
  ],
  [
    4,
    "arn:aws:s3:::my-bucket",
    {
      partition: "aws",
      service: "s3",
      region: "",
      accountId: "",
      resourceType: "bucket",
      resourceId: "my-bucket",
      impliedRegion: null,
    },
  ],
  [
    5,
    `arn:aws:iam::${ACCOUNT}:role/path/to/Role`,
    {
      partition: "aws",
      service: "iam",
      region: "",
      accountId: ACCOUNT,
      resourceType: "role",
      resourceId: "path/to/Role",
      impliedRegion: "us-east-1",
    },
  ],
  [
    6,
    `arn:aws-cn:iam::${ACCOUNT}:user/alice`,
    {
      partition: "aws-cn",
      service: "iam",
      region: "",
      accountId: ACCOUNT,
      resourceType: "user",
      resourceId: "alice",
      impliedRegion: "cn-north-1",
    },
  ],
  [
    7,
    `arn:aws-us-gov:iam::${ACCOUNT}:policy/Admins`,
    {
      partition: "aws-us-gov",
      service: "iam",
      region: "",
      accountId: ACCOUNT,
      resourceType: "policy",
      resourceId: "Admins",
      impliedRegion: "us-gov-west-1",
    },
  ],
  [
    8,
    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/x`,
    {
      partition: "aws",
      service: "logs",
      region: "us-east-1",
      accountId: ACCOUNT,
      resourceType: "log-group",
      resourceId: "/aws/lambda/x",
      impliedRegion: "us-east-1",
    },
  ],
  [
    9,
    `arn:aws:elasticloadbalancing:us-west-2:${ACCOUNT}:loadbalancer/app/name/123`,
    {
      partition: "aws",
      service: "elasticloadbalancing",
      region: "us-west-2",
      accountId: ACCOUNT,
      resourceType: "loadbalancer",
      resourceId: "app/name/123",
      impliedRegion: "us-west-2",
    },
  ],
  [
    10,
    "arn:aws:apigateway:us-east-1::/restapis/abc",
    {
      partition: "aws",
      service: "apigateway",
      region: "us-east-1",
      accountId: "",
      resourceType: "restapis",
      resourceId: "abc",
      impliedRegion: "us-east-1",
    },
  ],
  [
    11,
    `arn:aws:sns:us-east-1:${ACCOUNT}:my-topic`,
    {
      partition: "aws",
      service: "sns",
      region: "us-east-1",
      accountId: ACCOUNT,
      resourceType: "topic",
      resourceId: "my-topic",
      impliedRegion: "us-east-1",
    },
  ],
  [
    12,
    `arn:aws:sqs:ap-southeast-2:${ACCOUNT}:my-queue.fifo`,
    {
      partition: "aws",
      service: "sqs",
      region: "ap-southeast-2",
      accountId: ACCOUNT,
      resourceType: "queue",
      resourceId: "my-queue.fifo",
      impliedRegion: "ap-southeast-2",
    },
  ],
  [
    13,
    `arn:aws-cn:ec2:cn-northwest-1:${ACCOUNT}:volume/vol-1`,
    {
      partition: "aws-cn",
      service: "ec2",
      region: "cn-northwest-1",
      accountId: ACCOUNT,
      resourceType: "volume",
      resourceId: "vol-1",
      impliedRegion: "cn-northwest-1",
    },
  ],
  [
    14,
    `arn:aws-us-gov:kms:us-gov-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    {
      partition: "aws-us-gov",
      service: "kms",
      region: "us-gov-east-1",
      accountId: ACCOUNT,
      resourceType: "key",
      resourceId: "1234abcd-12ab-34cd-56ef-1234567890ab",
      impliedRegion: "us-gov-east-1",
    },
  ],
  [
    15,
    "arn:aws:route53:::hostedzone/Z1D633PJN98FT9",
    {
      partition: "aws",
      service: "route53",
      region: "",
      accountId: "",
      resourceType: "hostedzone",
      resourceId: "Z1D633PJN98FT9",
      impliedRegion: "us-east-1",
    },
  ],
  [
    16,
    `arn:aws:iam::${ACCOUNT}:role/Root`,
    {
      partition: "aws",
      service: "iam",
      region: "",
      accountId: ACCOUNT,
      resourceType: "role",
      resourceId: "Root",
      impliedRegion: "us-east-1",
    },
  ],
  [
    17,
    `arn:aws:codecommit:us-east-1:${ACCOUNT}:my-repo`,
    {
      partition: "aws",
      service: "codecommit",
      region: "us-east-1",
      accountId: ACCOUNT,
      resourceType: "repository",
      resourceId: "my-repo",
      impliedRegion: "us-east-1",
    },
  ],
  [
    18,
    `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:cpu high`,
    {
      partition: "aws",
      service: "cloudwatch",
      region: "us-east-1",
      accountId: ACCOUNT,
      resourceType: "alarm",
      resourceId: "cpu high",
      impliedRegion: "us-east-1",
    },
  ],
];

describe("parseArn: well-formed ARNs", () => {
  for (const [n, arn, expected] of VALID) {
    test(`${n}. ${arn}`, () => {
      const value = parsed(arn);
      const { impliedRegion: region, ...parts } = expected;
      assert.deepEqual(value, { arn, ...parts });
      assert.equal(impliedRegion(value), region);
      assert.equal(unsupportedReason(value), null);
    });
  }
});

const MALFORMED: [number, string, string, string][] = [
  [1, "too few parts", "arn:aws:ec2:us-east-1:123456789012", "is not of the form arn:partition:service"],
  [2, "not starting with arn", `arm:aws:ec2:us-east-1:${ACCOUNT}:instance/i-1`, "is not of the form"],
  [3, "empty string", "", "is not of the form"],
  [4, "upper-case ARN prefix", `ARN:aws:ec2:us-east-1:${ACCOUNT}:instance/i-1`, "is not of the form"],
  [5, "unknown partition", `arn:aws-xx:ec2:us-east-1:${ACCOUNT}:instance/i-1`, 'unknown partition "aws-xx"'],
  [6, "empty partition", `arn::ec2:us-east-1:${ACCOUNT}:instance/i-1`, 'unknown partition ""'],
  [7, "empty service", `arn:aws::us-east-1:${ACCOUNT}:instance/i-1`, "invalid service namespace"],
  [8, "upper-case service", `arn:aws:EC2:us-east-1:${ACCOUNT}:instance/i-1`, "invalid service namespace"],
  [9, "invalid region", `arn:aws:ec2:useast1:${ACCOUNT}:instance/i-1`, 'invalid region "useast1"'],
  [
    10,
    "region from another partition (aws/cn)",
    `arn:aws:ec2:cn-north-1:${ACCOUNT}:instance/i-1`,
    "has region cn-north-1, which is not in partition aws",
  ],
  [
    11,
    "region from another partition (aws-cn/us-east-1)",
    `arn:aws-cn:ec2:us-east-1:${ACCOUNT}:instance/i-1`,
    "not in partition aws-cn",
  ],
  [
    12,
    "region from another partition (aws-us-gov/aws)",
    `arn:aws-us-gov:ec2:us-east-1:${ACCOUNT}:instance/i-1`,
    "not in partition aws-us-gov",
  ],
  [13, "account of 11 digits", "arn:aws:ec2:us-east-1:12345678901:instance/i-1", "not 12 digits"],
  [14, "account of 13 digits", "arn:aws:ec2:us-east-1:1234567890123:instance/i-1", "not 12 digits"],
  [15, "account with letters", "arn:aws:ec2:us-east-1:12345678901a:instance/i-1", "not 12 digits"],
  [16, "account 'aws' (AWS-managed policy)", "arn:aws:iam::aws:policy/ReadOnlyAccess", "not 12 digits"],
  [17, "empty resource", `arn:aws:ec2:us-east-1:${ACCOUNT}:`, "empty resource part"],
  [18, "resource type without id", `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/`, "empty resource id"],
  [19, "lambda function without name", `arn:aws:lambda:us-east-1:${ACCOUNT}:function:`, "empty resource id"],
  [20, "only a slash", `arn:aws:ec2:us-east-1:${ACCOUNT}:/`, "empty resource id"],
  [21, "longer than 1011 characters", `arn:aws:s3:::${"b".repeat(1000)}`, "longer than 1011 characters"],
];

describe("parseArn: malformed ARNs", () => {
  for (const [n, name, arn, reason] of MALFORMED) {
    test(`${n}. ${name}`, () => {
      const result = parseArn(arn);
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.reason.includes(reason), !result.ok ? result.reason : "");
    });
  }

  test("22. exactly 1011 characters is accepted", () => {
    const prefix = "arn:aws:s3:::";
    const arn = `${prefix}${"b".repeat(1011 - prefix.length)}`;
    assert.equal(arn.length, 1011);
    assert.equal(parsed(arn).resourceId.length, 1011 - prefix.length);
  });
});

const UNSUPPORTED: [number, string, string, string][] = [
  [
    1,
    "unknown service",
    `arn:aws:nosuchservice:us-east-1:${ACCOUNT}:thing/1`,
    "service nosuchservice is not supported",
  ],
  [2, "IAM group (not taggable)", `arn:aws:iam::${ACCOUNT}:group/Developers`, "resource type iam:group"],
  [3, "S3 object", "arn:aws:s3:::my-bucket/photos/cat.jpg", "resource type s3:object"],
  [4, "S3 object in a bucket named 'bucket'", "arn:aws:s3:::bucket/key.txt", "resource type s3:object"],
  [5, "S3 object at the bucket's top level", "arn:aws:s3:::my-bucket/key", "resource type s3:object"],
  [
    6,
    "IoT 1-Click placement",
    `arn:aws:iot1click:us-east-1:${ACCOUNT}:placements/p1`,
    "iot1click:placements",
  ],
  [
    7,
    "CloudWatch dashboard (alarms only)",
    `arn:aws:cloudwatch::${ACCOUNT}:dashboard/main`,
    "cloudwatch:dashboard",
  ],
];

describe("parseArn: S3 objects", () => {
  test("an object ARN parses as type object with the bucket and key as id", () => {
    const value = parsed("arn:aws:s3:::bucket/photos/cat.jpg");
    assert.equal(value.resourceType, "object");
    assert.equal(value.resourceId, "bucket/photos/cat.jpg");
  });
});

describe("unsupportedReason", () => {
  for (const [n, name, arn, reason] of UNSUPPORTED) {
    test(`${n}. ${name} → unsupported`, () => {
      const why = unsupportedReason(parsed(arn));
      assert.ok(why?.includes(reason), String(why));
      assert.ok(why?.endsWith("is not supported by the Resource Groups Tagging API"), String(why));
    });
  }

  const supported: [number, string][] = [
    [1, `arn:aws:iot1click:us-east-1:${ACCOUNT}:projects/p1`],
    [2, `arn:aws:iot1click:us-east-1:${ACCOUNT}:devices/d1`],
    [3, `arn:aws:iam::${ACCOUNT}:instance-profile/web`],
    [4, `arn:aws:iam::${ACCOUNT}:saml-provider/okta`],
    [5, `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`],
    [6, `arn:aws:iam::${ACCOUNT}:mfa/alice`],
    [7, `arn:aws:iam::${ACCOUNT}:server-certificate/web`],
    [8, "arn:aws:s3:::bucket"],
  ];
  for (const [n, arn] of supported) {
    test(`supported ${n}. ${arn}`, () => {
      assert.equal(unsupportedReason(parsed(arn)), null);
    });
  }
});

describe("impliedRegion", () => {
  const cases: [number, string, string | null][] = [
    [1, `arn:aws:iam::${ACCOUNT}:role/R`, "us-east-1"],
    [2, `arn:aws-cn:iam::${ACCOUNT}:role/R`, "cn-north-1"],
    [3, `arn:aws-us-gov:iam::${ACCOUNT}:role/R`, "us-gov-west-1"],
    [4, `arn:aws:cloudfront::${ACCOUNT}:distribution/E1`, "us-east-1"],
    [5, `arn:aws-cn:route53:::hostedzone/Z1`, "cn-north-1"],
    [6, "arn:aws:s3:::my-bucket", null],
    [7, "arn:aws-cn:s3:::my-bucket", null],
    [8, `arn:aws:ec2:eu-central-1:${ACCOUNT}:instance/i-1`, "eu-central-1"],
    [9, `arn:aws:iam::${ACCOUNT}:group/G`, "us-east-1"],
  ];
  for (const [n, arn, region] of cases) {
    test(`${n}. ${arn} → ${region}`, () => {
      assert.equal(impliedRegion(parsed(arn)), region);
    });
  }
});
