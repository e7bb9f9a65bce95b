import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type AliyunSignedRequest,
  expectedSignature,
  parseAliyunAuth,
  percentEncode,
  signatureMatches,
} from "../../src/auth/aliyun-signature.ts";
import { ALIYUN_MAX_SKEW_MS, checkTimestamp } from "../../src/auth/replay.ts";
import { ServiceError } from "../../src/errors.ts";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/**
 * The worked example of Alibaba's signature V3 documentation (RunInstances, cn-shanghai, secret
 * `YourAccessKeySecret`), whose published Authorization header carries this signature.
 */
const acs3Example: AliyunSignedRequest = {
  method: "POST",
  rawPath: "/",
  headers: new Map([
    ["host", ["ecs.cn-shanghai.aliyuncs.com"]],
    ["x-acs-action", ["RunInstances"]],
    ["x-acs-version", ["2014-05-26"]],
    ["x-acs-date", ["2023-10-26T09:01:01Z"]],
    ["x-acs-signature-nonce", ["d410180a5abf7fe235dd9b74aca91fc0"]],
    ["x-acs-content-sha256", [EMPTY_SHA256]],
    [
      "authorization",
      [
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804",
      ],
    ],
  ]),
  query: [
    ["ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"],
    ["RegionId", "cn-shanghai"],
  ],
  form: [],
  body: Buffer.alloc(0),
};

/** The worked example of the RPC (v1) signature documentation: DescribeRegions, secret `testsecret`. */
const v1Example: AliyunSignedRequest = {
  method: "GET",
  rawPath: "/",
  headers: new Map(),
  query: [
    ["Timestamp", "2016-02-23T12:46:24Z"],
    ["Format", "XML"],
    ["AccessKeyId", "testid"],
    ["Action", "DescribeRegions"],
    ["SignatureMethod", "HMAC-SHA1"],
    ["SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"],
    ["Version", "2014-05-26"],
    ["SignatureVersion", "1.0"],
    ["Signature", "OLeaidS1JvxuMvnyHOwuJ+uX5qY="],
  ],
  form: [],
  body: Buffer.alloc(0),
};

test("ACS3-HMAC-SHA256: the documentation's example verifies; another secret does not", () => {
  const auth = parseAliyunAuth(acs3Example);
  assert.equal(auth.scheme, "ACS3-HMAC-SHA256");
  assert.equal(auth.accessKeyId, "YourAccessKeyId");
  assert.equal(auth.nonce, "d410180a5abf7fe235dd9b74aca91fc0");
  assert.equal(auth.timestamp, "2023-10-26T09:01:01Z");
  assert.equal(signatureMatches(auth, "YourAccessKeySecret"), true);
  assert.equal(signatureMatches(auth, "YourAccessKeySecreT"), false);
});

test("v1 HMAC-SHA1: the documentation's example, string to sign and signature", () => {
  const auth = parseAliyunAuth(v1Example);
  assert.equal(auth.scheme, "HMAC-SHA1");
  assert.equal(
    auth.stringToSign,
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
  );
  assert.equal(expectedSignature(auth, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
  assert.equal(signatureMatches(auth, "testsecret"), true);
});

test("v1: the form body is signed along with the query string", () => {
  const auth = parseAliyunAuth({ ...v1Example, form: [["Tag.1.Key", "env"]] });
  assert.equal(signatureMatches(auth, "testsecret"), false);
});

test("percentEncode is RFC 3986: * and ' ( ) ! are escaped, ~ is not, UTF-8 bytes", () => {
  assert.equal(percentEncode("a b*~'()!+/é"), "a%20b%2A~%27%28%29%21%2B%2F%C3%A9");
});

const refused: [string, (r: AliyunSignedRequest) => AliyunSignedRequest, string][] = [
  [
    "an unsigned x-acs-* header",
    (r) => ({ ...r, headers: new Map([...r.headers, ["x-acs-extra", ["1"]]]) }),
    "IncompleteSignature",
  ],
  [
    "a signed header that is not sent",
    (r) => ({ ...r, headers: new Map([...r.headers].filter(([n]) => n !== "x-acs-version")) }),
    "IncompleteSignature",
  ],
  [
    "a body that is not what x-acs-content-sha256 says",
    (r) => ({ ...r, body: Buffer.from("RegionId=cn-beijing") }),
    "SignatureDoesNotMatch",
  ],
  [
    "no x-acs-signature-nonce",
    (r) => ({
      ...r,
      headers: new Map(
        [...r.headers]
          .filter(([n]) => n !== "x-acs-signature-nonce")
          .map(([n, v]) =>
            n === "authorization" ? [n, [v[0]?.replace("x-acs-signature-nonce;", "") ?? ""]] : [n, v],
          ),
      ),
    }),
    "MissingParameter",
  ],
];
for (const [title, change, code] of refused) {
  test(`ACS3 refuses ${title}: ${code}`, () => {
    assert.throws(
      () => parseAliyunAuth(change(acs3Example)),
      (err: unknown) => err instanceof ServiceError && err.code === code,
    );
  });
}

test("the clock check: 15 minutes either way, a well-formed UTC time", () => {
  const t = Date.UTC(2026, 0, 15, 12, 0, 0);
  assert.equal(checkTimestamp("2026-01-15T12:00:00Z", t), t);
  assert.equal(checkTimestamp("2026-01-15T12:00:00.250Z", t), t + 250);
  assert.equal(checkTimestamp("2026-01-15T11:45:00Z", t), t - ALIYUN_MAX_SKEW_MS);
  const code = (ts: string) => {
    try {
      checkTimestamp(ts, t);
      return "ok";
    } catch (err) {
      return (err as ServiceError).code;
    }
  };
  assert.equal(code("2026-01-15T11:44:59Z"), "InvalidTimeStamp.Expired");
  assert.equal(code("2026-01-15T12:15:01Z"), "InvalidTimeStamp.Expired");
  for (const bad of [
    "2026-01-15 12:00:00",
    "2026-01-15T12:00:00+08:00",
    "2026-02-31T12:00:00Z",
    "",
    "1768478400",
  ])
    assert.equal(code(bad), "InvalidTimeStamp.Format", bad);
});
