import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { AWS_TOKEN_TTL_MS, type TokenBinding, TokenSigner } from "../../src/domain/pagination.ts";
import { DomainError, type DomainErrorKind } from "../../src/errors.ts";

const SECRET = "pagination-secret";
const T0 = Date.parse("2024-05-06T07:08:09Z");
const BINDING: TokenBinding = { accountId: "111111111111", region: "us-east-1", query: "GetResources|{}" };

function clock(start = T0) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

function expectDomainError(fn: () => unknown, kind: DomainErrorKind, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.ok(err.message.includes(message), err.message);
    return true;
  });
}

const invalid = (fn: () => unknown) =>
  expectDomainError(fn, "PaginationTokenInvalid", "The specified pagination token is invalid");

/** A token with a correct MAC over an arbitrary payload: what only a holder of the secret can make. */
function forge(payloadJson: string, binding = BINDING, secret = SECRET): string {
  const payload = Buffer.from(payloadJson).toString("base64url");
  const mac = createHmac("sha256", secret)
    .update(`${binding.accountId}\n${binding.region}\n${binding.query}\n${payload}`)
    .digest("base64url");
  return `${payload}.${mac}`;
}

describe("TokenSigner round trip", () => {
  const cursors: [number, string][] = [
    [1, "resource-42"],
    [2, ""],
    [3, '{"arn":"arn:aws:ec2:us-east-1:111111111111:instance/i-1","k":"ключ 😀"}'],
    [4, "x".repeat(1000)],
    [5, "a.b.c"],
  ];
  for (const [n, cursor] of cursors) {
    test(`${n}. cursor ${JSON.stringify(cursor.slice(0, 40))} comes back`, () => {
      const signer = new TokenSigner(SECRET, clock().now);
      const token = signer.issue(BINDING, cursor);
      assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
      assert.equal(signer.open(token, BINDING, AWS_TOKEN_TTL_MS), cursor);
    });
  }

  test("6. the token is opaque: the cursor is not readable as plain text", () => {
    const token = new TokenSigner(SECRET).issue(BINDING, "resource-42");
    assert.ok(!token.includes("resource-42"));
  });
});

describe("TokenSigner binding", () => {
  const others: [number, string, TokenBinding][] = [
    [1, "another account", { ...BINDING, accountId: "222222222222" }],
    [2, "another region", { ...BINDING, region: "eu-west-1" }],
    [3, "another query", { ...BINDING, query: 'GetResources|{"TagFilters":[]}' }],
    [4, "another operation", { ...BINDING, query: "GetTagKeys|{}" }],
    [
      5,
      "fields shifted across the separator",
      { accountId: "111111111111\nus-east-1", region: "", query: BINDING.query },
    ],
  ];
  for (const [n, name, binding] of others) {
    test(`${n}. opened with ${name} → PaginationTokenInvalid`, () => {
      const signer = new TokenSigner(SECRET);
      const token = signer.issue(BINDING, "cursor");
      invalid(() => signer.open(token, binding));
    });
  }
});

describe("TokenSigner rejects tampered and garbage tokens", () => {
  const signer = new TokenSigner(SECRET, clock().now);
  const token = signer.issue(BINDING, "cursor-1");
  const [payload = "", mac = ""] = token.split(".");
  const swap = (s: string, i: number) => {
    const c = s.charAt(i);
    return `${s.slice(0, i)}${c === "A" ? "B" : "A"}${s.slice(i + 1)}`;
  };
  const otherPayload = Buffer.from(JSON.stringify({ c: "cursor-2", t: T0 })).toString("base64url");

  const cases: [number, string, string][] = [
    [1, "payload first char changed", `${swap(payload, 0)}.${mac}`],
    [2, "payload replaced by another cursor", `${otherPayload}.${mac}`],
    [3, "MAC first char changed", `${payload}.${swap(mac, 0)}`],
    [4, "MAC last char changed", `${payload}.${swap(mac, mac.length - 1)}`],
    [5, "MAC with one more char", `${payload}.${mac}A`],
    [6, "MAC with a char base64url ignores", `${payload}.${mac}!`],
    [7, "MAC with padding", `${payload}.${mac}=`],
    [8, "MAC one char short", `${payload}.${mac.slice(0, -1)}`],
    [9, "MAC in standard base64", `${payload}.${Buffer.from(mac, "base64url").toString("base64")}`],
    [10, "empty MAC (empty after the dot)", `${payload}.`],
    [11, "no dot", `${payload}${mac}`],
    [12, "empty payload", `.${mac}`],
    [13, "a second dot", `${payload}.${mac}.x`],
    [14, "empty string", ""],
    [15, "a lone dot", "."],
    [16, "garbage", "not a token"],
    [17, "garbage with a dot", "abc.def"],
    [18, "percent garbage", "%%%.%%%"],
    [19, "longer than 2048 chars", "A".repeat(2049)],
    [20, "longer than 2048 chars, with a dot", `${"A".repeat(2040)}.${mac}`],
    [21, "leading space", ` ${token}`],
    [22, "trailing newline", `${token}\n`],
  ];
  for (const [n, name, bad] of cases) {
    test(`${n}. ${name} → PaginationTokenInvalid`, () => {
      invalid(() => signer.open(bad, BINDING, AWS_TOKEN_TTL_MS));
    });
  }

  test("23. every other char in the MAC's last place → PaginationTokenInvalid", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (const c of alphabet) {
      if (c === mac.at(-1)) continue;
      invalid(() => signer.open(`${payload}.${mac.slice(0, -1)}${c}`, BINDING, AWS_TOKEN_TTL_MS));
    }
  });

  const forged: [number, string, string][] = [
    [1, "payload not JSON", "{not json"],
    [2, "payload null", "null"],
    [3, "payload a number", "42"],
    [4, "cursor not a string", JSON.stringify({ c: 1, t: T0 })],
    [5, "issue time missing", JSON.stringify({ c: "x" })],
    [6, "issue time a string", JSON.stringify({ c: "x", t: String(T0) })],
    [7, "cursor missing", JSON.stringify({ t: T0 })],
  ];
  for (const [n, name, json] of forged) {
    test(`forged ${n}. correctly MACed but ${name} → PaginationTokenInvalid`, () => {
      invalid(() => signer.open(forge(json), BINDING, AWS_TOKEN_TTL_MS));
    });
  }

  test("forged 8. correctly MACed and well-formed opens (the forge helper matches the format)", () => {
    assert.equal(signer.open(forge(JSON.stringify({ c: "made", t: T0 })), BINDING, AWS_TOKEN_TTL_MS), "made");
  });
});

describe("TokenSigner expiry", () => {
  const ages: [number, number, boolean][] = [
    [1, 0, true],
    [2, 14 * 60_000 + 59_000, true],
    [3, AWS_TOKEN_TTL_MS, true],
    [4, 15 * 60_000 + 1_000, false],
    [5, 24 * 60 * 60_000, false],
  ];
  for (const [n, age, ok] of ages) {
    test(`${n}. a token ${age / 1000} s old → ${ok ? "opens" : "PaginationTokenExpired"}`, () => {
      const c = clock();
      const signer = new TokenSigner(SECRET, c.now);
      const token = signer.issue(BINDING, "cursor");
      c.advance(age);
      if (ok) assert.equal(signer.open(token, BINDING, AWS_TOKEN_TTL_MS), "cursor");
      else {
        expectDomainError(
          () => signer.open(token, BINDING, AWS_TOKEN_TTL_MS),
          "PaginationTokenExpired",
          "has expired",
        );
      }
    });
  }

  test("6. without a ttl a day-old token still opens", () => {
    const c = clock();
    const signer = new TokenSigner(SECRET, c.now);
    const token = signer.issue(BINDING, "cursor");
    c.advance(24 * 60 * 60_000);
    assert.equal(signer.open(token, BINDING), "cursor");
  });

  test("7. a tampered expired token is invalid, not expired", () => {
    const c = clock();
    const signer = new TokenSigner(SECRET, c.now);
    const token = signer.issue(BINDING, "cursor");
    c.advance(AWS_TOKEN_TTL_MS + 60_000);
    invalid(() => signer.open(`${token}x`, BINDING, AWS_TOKEN_TTL_MS));
  });
});

describe("TokenSigner across instances", () => {
  test("1. two signers with the same secret accept each other's tokens", () => {
    const c = clock();
    const a = new TokenSigner(SECRET, c.now);
    const b = new TokenSigner(SECRET, c.now);
    assert.equal(b.open(a.issue(BINDING, "from-a"), BINDING, AWS_TOKEN_TTL_MS), "from-a");
    assert.equal(a.open(b.issue(BINDING, "from-b"), BINDING, AWS_TOKEN_TTL_MS), "from-b");
  });

  test("2. expiry is judged by the opening instance's clock", () => {
    const issuer = new TokenSigner(SECRET, clock(T0).now);
    const opener = new TokenSigner(SECRET, clock(T0 + AWS_TOKEN_TTL_MS + 1_000).now);
    expectDomainError(
      () => opener.open(issuer.issue(BINDING, "x"), BINDING, AWS_TOKEN_TTL_MS),
      "PaginationTokenExpired",
      "has expired",
    );
  });

  test("3. a signer with another secret rejects the token", () => {
    const a = new TokenSigner(SECRET);
    const b = new TokenSigner("another-secret");
    invalid(() => b.open(a.issue(BINDING, "from-a"), BINDING));
  });
});
