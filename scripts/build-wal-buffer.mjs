// Builds native/walbuf.c, the SQLite extension that gathers WAL writes (see that file), into
// native/build/. Run by `npm ci` / `npm install` (postinstall). Without a C compiler, or on a platform
// it does not know, it says so and leaves tagd to run without the extension (tagd says so at start).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const flags = { linux: ["-shared"], darwin: ["-dynamiclib", "-undefined", "dynamic_lookup"] }[
  process.platform
];
const library = join(root, "native", "build", process.platform === "darwin" ? "walbuf.dylib" : "walbuf.so");

function build() {
  if (!flags) return `no build for ${process.platform}`;
  let include;
  try {
    include = join(
      dirname(createRequire(import.meta.url).resolve("better-sqlite3/package.json")),
      "deps",
      "sqlite3",
    );
  } catch {
    return "better-sqlite3 is not installed";
  }
  mkdirSync(dirname(library), { recursive: true });
  const cc = process.env.CC || "cc";
  try {
    execFileSync(
      cc,
      ["-O2", "-fPIC", ...flags, "-I", include, "-o", library, join(root, "native", "walbuf.c")],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
  } catch (err) {
    return `${cc} failed: ${err.message.split("\n")[0]}`;
  }
  return null;
}

const failure = build();
if (failure) {
  console.warn(
    `tagd: the SQLite WAL buffer was not built (${failure}); tagd runs without it, only slower at writes`,
  );
} else {
  console.log(`tagd: built ${library}`);
}
