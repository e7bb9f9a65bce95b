#!/usr/bin/env node
// Runs every test file once (storage suites loop over both engines themselves), then — when
// TAGD_TEST_DATABASE_URL names a PostgreSQL database — the API suites a second time with tagd on
// PostgreSQL. Extra arguments narrow the run to those files.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

const given = process.argv.slice(2);
const files = (given.length ? given : find("test")).sort();
// Suites that drive a whole server; they run on whichever engine TAGD_TEST_ENGINE names.
const apiSuites = files.filter(
  (f) => !f.startsWith(join("test", "store")) && !f.startsWith(join("test", "unit")),
);

function run(label, list, env) {
  if (list.length === 0) return 0;
  console.log(`\n# ${label}: ${list.length} files`);
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...list], {
    stdio: "inherit",
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...env },
  });
  return r.status ?? 1;
}

let status = run("all suites (API suites on SQLite)", files, { TAGD_TEST_ENGINE: "sqlite" });
if (process.env.TAGD_TEST_DATABASE_URL) {
  status ||= run("API suites on PostgreSQL", apiSuites, { TAGD_TEST_ENGINE: "postgres" });
} else {
  console.log(
    "\n# PostgreSQL skipped: set TAGD_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run the",
  );
  console.log("# storage suites and the API suites on PostgreSQL too.");
}
process.exit(status);
