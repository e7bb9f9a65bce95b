import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, DEVELOPMENT_CONFIG, loadConfigFile, parseConfig } from "../../src/config.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "tagd-config-test-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: the cases mutate JSON-shaped configuration freely.
type Json = Record<string, any>;

/** The example from the design document, with real-looking secrets. */
function example(): Record<string, unknown> {
  return {
    inventory: "strict",
    adminToken: "change-me-please",
    accounts: [
      {
        id: "111111111111",
        cloud: "aws",
        management: true,
        accessKeys: [{ accessKeyId: "AKIAEXAMPLE1", secret: "aws-secret" }],
      },
      {
        id: "1000000000000001",
        cloud: "alibaba",
        accessKeys: [{ accessKeyId: "LTAIexample1", secret: "ali-secret" }],
      },
    ],
    organization: {
      id: "o-exampleorgid",
      root: "r-root",
      units: [{ id: "ou-web", parent: "r-root", accounts: ["111111111111"] }],
    },
    resources: [{ arn: "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0" }],
    paginationSecret: "shared by every instance on one database",
  };
}

/** The ConfigError parseConfig throws, or a failure if it accepts the input. */
function configError(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
}

test("parseConfig accepts the documented shape and fills defaults", () => {
  const config = parseConfig(example());
  assert.equal(config.inventory, "strict");
  assert.equal(config.accounts.length, 2);
  assert.equal(config.accounts[1]?.cloud, "alibaba");
  assert.equal(config.organization?.units[0]?.parent, "r-root");
  assert.deepEqual(config.organization?.accounts, []);

  const minimal = parseConfig({});
  assert.equal(minimal.inventory, "open");
  assert.deepEqual(minimal.accounts, []);
  assert.deepEqual(minimal.resources, []);
  assert.equal(minimal.adminToken, undefined);

  const noKeys = parseConfig({ accounts: [{ id: "222222222222", cloud: "aws" }] });
  assert.deepEqual(noKeys.accounts[0]?.accessKeys, []);

  assert.equal(DEVELOPMENT_CONFIG.accounts[0]?.id, "000000000000");
  assert.equal(DEVELOPMENT_CONFIG.accounts[0]?.accessKeys[0]?.accessKeyId, "test");
});

test("every bad field is named by its path", () => {
  const cases: [string, (c: Json) => void, RegExp][] = [
    ["unknown top-level field", (c) => (c.colour = "blue"), /colour/],
    ["unknown account field", (c) => (c.accounts[0].region = "us-east-1"), /accounts\[0\].*region/],
    ["AWS account id not 12 digits", (c) => (c.accounts[0].id = "12345"), /accounts\[0\]\.id: .*12 digits/],
    [
      "Alibaba UID not 16 digits",
      (c) => (c.accounts[1].id = "111111111111"),
      /accounts\[1\]\.id: .*16 digits/,
    ],
    ["unknown cloud", (c) => (c.accounts[0].cloud = "gcp"), /accounts\[0\]\.cloud/],
    ["bad inventory mode", (c) => (c.inventory = "closed"), /inventory/],
    ["short adminToken", (c) => (c.adminToken = "short"), /adminToken: .*at least 8/],
    ["short paginationSecret", (c) => (c.paginationSecret = "tiny"), /paginationSecret/],
    [
      "duplicate access key id",
      (c) =>
        c.accounts.push({
          id: "222222222222",
          cloud: "aws",
          accessKeys: [{ accessKeyId: "AKIAEXAMPLE1", secret: "s" }],
        }),
      /accounts\[2\]\.accessKeys\[0\]\.accessKeyId: .*AKIAEXAMPLE1.*111111111111/,
    ],
    [
      "account listed twice",
      (c) => c.accounts.push({ ...c.accounts[0], accessKeys: [] }),
      /accounts\[2\]\.id: .*twice/,
    ],
    [
      "empty secret",
      (c) => (c.accounts[0].accessKeys[0].secret = ""),
      /accounts\[0\]\.accessKeys\[0\]\.secret/,
    ],
    [
      "organization unit with an unknown parent",
      (c) => c.organization.units.push({ id: "ou-api", parent: "ou-nowhere" }),
      /organization\.units\[1\]\.parent: .*ou-nowhere/,
    ],
    ["bad organization id", (c) => (c.organization.id = "org-1"), /organization\.id/],
    ["bad root id", (c) => (c.organization.root = "root"), /organization\.root/],
    [
      "report endpoint that is not a URL",
      (c) => (c.reports = { s3: { endpoint: "minio:9000", accessKeyId: "a", secretAccessKey: "b" } }),
      /reports\.s3\.endpoint/,
    ],
    [
      "report settings without credentials",
      (c) => (c.reports = { s3: { endpoint: "http://127.0.0.1:9000" } }),
      /reports\.s3\.accessKeyId/,
    ],
    ["unknown report field", (c) => (c.reports = { bucket: "x" }), /reports.*bucket/],
    [
      "resource with a bad ARN",
      (c) => c.resources.push({ arn: "not-an-arn" }),
      /resources\[1\]: .*not-an-arn/,
    ],
    [
      "resource of an unconfigured account",
      (c) => c.resources.push({ arn: "arn:aws:ec2:us-east-1:333333333333:instance/i-1" }),
      /resources\[1\]: .*333333333333/,
    ],
    [
      "region-less resource without its region",
      (c) => c.resources.push({ arn: "arn:aws:s3:::bucket", accountId: "111111111111" }),
      /resources\[1\]: .*region/,
    ],
    ["unknown resource field", (c) => (c.resources[0].labels = {}), /resources\[0\].*labels/],
    [
      "resource tag over the length limit",
      (c) => (c.resources[0].tags = { k: "v".repeat(257) }),
      /resources\[0\]: tag "k"/,
    ],
    ["wrong type", (c) => (c.accounts = {}), /accounts: /],
  ];
  for (const [label, mutate, expected] of cases) {
    const raw = example();
    mutate(raw as Json);
    assert.match(configError(raw), expected, label);
  }
  // Several problems are reported together.
  const raw = example() as Json;
  raw.colour = "blue";
  raw.accounts[0].id = "1";
  const message = configError(raw);
  assert.match(message, /colour/);
  assert.match(message, /accounts\[0\]\.id/);
  assert.match(configError(null), /\(root\)/);
  assert.match(configError([]), /\(root\)/);
});

test("loadConfigFile reads JSON and YAML", () => {
  const json = join(tmp, "tagd.json");
  writeFileSync(json, JSON.stringify(example()));
  assert.deepEqual(loadConfigFile(json), parseConfig(example()));

  const yaml = join(tmp, "tagd.yaml");
  writeFileSync(
    yaml,
    [
      "inventory: strict",
      "adminToken: change-me-please",
      "accounts:",
      "  - id: '111111111111'",
      "    cloud: aws",
      "    management: true",
      "    accessKeys:",
      "      - accessKeyId: AKIAEXAMPLE1",
      "        secret: aws-secret",
      "  - id: '1000000000000001'",
      "    cloud: alibaba",
      "    accessKeys: [{ accessKeyId: LTAIexample1, secret: ali-secret }]",
      "organization:",
      "  id: o-exampleorgid",
      "  root: r-root",
      "  units:",
      "    - { id: ou-web, parent: r-root, accounts: ['111111111111'] }",
      "resources:",
      "  - arn: arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0",
      "paginationSecret: shared by every instance on one database",
      "",
    ].join("\n"),
  );
  assert.deepEqual(loadConfigFile(yaml), parseConfig(example()));

  // A YAML account id written as a number is not a 12-digit string.
  const numeric = join(tmp, "numeric.yml");
  writeFileSync(numeric, "accounts:\n  - id: 111111111111\n    cloud: aws\n");
  assert.throws(
    () => loadConfigFile(numeric),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /numeric\.yml/);
      assert.match(err.message, /accounts\[0\]\.id/);
      return true;
    },
  );
});

test("a resource's tags must be a plain object of strings, whatever the file's parser made of them", () => {
  const arn = "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0";
  const withTags = (tags: unknown) => ({ ...example(), resources: [{ arn, tags }] });
  for (const [tags, message] of [
    [new Map([["env", "prod"]]), /resources\[0\]\.tags: .*received a Map/],
    [new Set(["env"]), /received a Set/],
    [new Date(0), /received a Date/],
    [["env"], /received an array/],
    ["env=prod", /received a string/],
    [{ env: "prod", n: 5 }, /"n": expected a string value, received number/],
  ] as const) {
    assert.match(configError(withTags(tags)), message);
  }
  // JSON and YAML make `__proto__` an own key like any other: it is a tag key like any other.
  const parsed = parseConfig(withTags(JSON.parse('{"__proto__": "x", "env": "prod"}')));
  assert.deepEqual(Object.entries(parsed.resources[0]?.tags ?? {}), [
    ["__proto__", "x"],
    ["env", "prod"],
  ]);
  // YAML 1.1's set and ordered-map tags are refused, not read as no tags.
  const tmp = mkdtempSync(join(tmpdir(), "tagd-config-tags-"));
  try {
    const file = join(tmp, "omap.yml");
    writeFileSync(file, `resources:\n  - arn: ${arn}\n    tags: !!omap\n      - env: prod\n`);
    assert.throws(() => loadConfigFile(file), /resources\[0\]\.tags: .*received a Map/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("loadConfigFile reports unreadable and unparsable files as ConfigError", () => {
  const check = (file: string, expected: RegExp) =>
    assert.throws(
      () => loadConfigFile(file),
      (err: Error) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, expected);
        return true;
      },
    );
  check(join(tmp, "missing.yaml"), /cannot read configuration file .*missing\.yaml/);
  check(tmp, /cannot read configuration file/);
  if (process.getuid?.() !== 0) {
    const locked = join(tmp, "locked.json");
    writeFileSync(locked, "{}");
    chmodSync(locked, 0o000);
    check(locked, /cannot read configuration file .*locked\.json/);
  }
  const badYaml = join(tmp, "bad.yaml");
  writeFileSync(badYaml, "accounts:\n  - id: '1'\n   cloud: aws\n  bad: [unclosed\n");
  check(badYaml, /bad\.yaml is not valid YAML/);
  const badJson = join(tmp, "bad.json");
  writeFileSync(badJson, '{"inventory": "open",}');
  check(badJson, /bad\.json is not valid JSON/);
  const unknown = join(tmp, "unknown.json");
  writeFileSync(unknown, JSON.stringify({ inventroy: "strict" }));
  check(unknown, /unknown\.json[\s\S]*inventroy/);
});

// ---------------------------------------------------------------------------------------------
// The CLI

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): { child: ChildProcess; exit: Promise<Exit> } {
  // Only the variables a case sets: a TAGD_* of the caller's environment must not leak in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TAGD_")));
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exit = new Promise<Exit>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    exit: exit.then((e) => ({ ...e, stdout, stderr })),
  };
}

test("the CLI exits with 2 and names the field when the configuration is bad", async () => {
  const bad = join(tmp, "cli-bad.json");
  writeFileSync(bad, JSON.stringify({ ...example(), accounts: [{ id: "12", cloud: "aws" }], resources: [] }));
  const badYaml = join(tmp, "cli-bad.yaml");
  writeFileSync(badYaml, "inventory: open\nadminToken: x\n");
  const [a, b, c, d, e, f, g] = await Promise.all([
    run(["--config", bad, "--data-dir", join(tmp, "cli-data-1")]).exit,
    run(["--data-dir", join(tmp, "cli-data-2")], { TAGD_CONFIG: badYaml }).exit,
    run(["--config", join(tmp, "no-such-file.json"), "--data-dir", join(tmp, "cli-data-3")]).exit,
    run(["--port", "99999", "--data-dir", join(tmp, "cli-data-4")]).exit,
    run(["--workers", "0", "--data-dir", join(tmp, "cli-data-5")]).exit,
    run(["--data-dir", join(tmp, "cli-data-6")], { TAGD_WORKERS: "two" }).exit,
    // With --workers the primary reads the file before it starts any worker.
    run(["--workers", "2", "--config", bad, "--data-dir", join(tmp, "cli-data-7")]).exit,
  ]);
  for (const [exit, pattern] of [
    [e, /--workers: 0 is not a number of processes from 1 to 64/],
    [f, /--workers: two/],
    [g, /accounts\[0\]\.id/],
  ] as const) {
    assert.equal(exit.code, 2, exit.stderr);
    assert.match(exit.stderr, pattern);
    assert.doesNotMatch(exit.stdout, /Server listening/);
  }
  assert.equal(a.code, 2, a.stderr);
  assert.match(a.stderr, /accounts\[0\]\.id/);
  assert.match(a.stderr, /cli-bad\.json/);
  assert.doesNotMatch(a.stderr, /\n\s+at /, "no stack trace");
  assert.equal(b.code, 2, b.stderr);
  assert.match(b.stderr, /adminToken/);
  assert.equal(c.code, 2, c.stderr);
  assert.match(c.stderr, /no-such-file\.json/);
  assert.equal(d.code, 2, d.stderr);
  assert.match(d.stderr, /--port/);
});

test("the CLI starts from TAGD_* variables and stops cleanly on SIGTERM", async () => {
  const config = join(tmp, "cli-good.yaml");
  writeFileSync(
    config,
    "adminToken: cli-admin-token\naccounts:\n  - id: '111111111111'\n    cloud: aws\n    accessKeys: [{ accessKeyId: AKIDCLI, secret: cli-secret }]\n",
  );
  const { child, exit } = run([], {
    TAGD_PORT: "0",
    TAGD_HOST: "127.0.0.1",
    TAGD_CONFIG: config,
    TAGD_DATA_DIR: join(tmp, "cli-data-good"),
  });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Server listening" line: ${out}`)), 15_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exit.then((e) => reject(new Error(`exited early with ${e.code}: ${e.stderr}`)));
  });
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  const admin = await fetch(`${url}/admin/v1/resources`, {
    headers: { authorization: "Bearer cli-admin-token" },
  });
  assert.equal(admin.status, 200, "the configuration file was used");
  assert.doesNotMatch(out, /development identity/);

  child.kill("SIGTERM");
  const done = await exit;
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /shutting down/);
});

test("with --workers, a worker that cannot start stops the primary with its exit code", async () => {
  const taken = createNetServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const { port } = taken.address() as AddressInfo;
  try {
    const done = await run([
      "--workers",
      "2",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--data-dir",
      join(tmp, "cli-data-taken"),
    ]).exit;
    assert.equal(done.code, 1, done.stderr);
    assert.match(done.stderr, /EADDRINUSE/);
  } finally {
    taken.close();
  }
});
