import cluster from "node:cluster";
import { Command, Option } from "commander";
import { superviseWorkers } from "./cluster.ts";
import { ConfigError, DEVELOPMENT_CONFIG, loadConfigFile } from "./config.ts";

const program = new Command()
  .name("tagd")
  .description("Self-hostable cloud resource tagging service")
  .addOption(new Option("--host <host>", "address to listen on").env("TAGD_HOST").default("127.0.0.1"))
  .addOption(new Option("--port <port>", "port to listen on").env("TAGD_PORT").default("4580"))
  .addOption(
    new Option("--data-dir <dir>", "where the embedded SQLite database lives")
      .env("TAGD_DATA_DIR")
      .default("./data"),
  )
  .addOption(new Option("--config <file>", "configuration file (JSON or YAML)").env("TAGD_CONFIG"))
  .addOption(
    new Option("--database-url <url>", "PostgreSQL URL instead of the embedded SQLite").env(
      "TAGD_DATABASE_URL",
    ),
  )
  .addOption(
    new Option("--workers <n>", "processes serving the port, over one store (1 to 64)")
      .env("TAGD_WORKERS")
      .default("1"),
  )
  .addOption(
    new Option(
      "--sqlite-wal-buffer <on|off>",
      "SQLite: gather WAL writes with the native extension, when built",
    )
      .env("TAGD_SQLITE_WAL_BUFFER")
      .choices(["on", "off"])
      .default("on"),
  )
  .addOption(
    new Option("--log-level <level>", "log level")
      .env("TAGD_LOG_LEVEL")
      .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
  );

async function main() {
  program.parse();
  const opts = program.opts<{
    host: string;
    port: string;
    dataDir: string;
    config?: string;
    databaseUrl?: string;
    workers: string;
    sqliteWalBuffer: "on" | "off";
    logLevel: string;
  }>();
  const port = /^\d+$/.test(opts.port) ? Number(opts.port) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`--port: ${opts.port} is not a port number`);
  const workers = /^\d+$/.test(opts.workers) ? Number(opts.workers) : Number.NaN;
  if (!(workers >= 1 && workers <= 64))
    throw new ConfigError(`--workers: ${opts.workers} is not a number of processes from 1 to 64`);
  const config = opts.config ? loadConfigFile(opts.config) : DEVELOPMENT_CONFIG;
  if (workers > 1 && cluster.isPrimary) return superviseWorkers(workers, opts.logLevel);
  // Loaded here, not above: a --workers primary runs none of it.
  const { createServer } = await import("./server.ts");
  const tagd = await createServer({
    config,
    dataDir: opts.dataDir,
    databaseUrl: opts.databaseUrl,
    logger: { level: opts.logLevel },
    sharedFile: cluster.isWorker,
    sqliteWalBuffer: opts.sqliteWalBuffer === "on",
  });
  if (!opts.config && (cluster.worker?.id ?? 1) === 1) {
    tagd.app.log.warn(
      "no --config given: development identity (AWS account 000000000000, Alibaba account 1000000000000000, access key test/test, admin token test-admin-token)",
    );
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    tagd.app.log.info({ signal }, "shutting down: finishing in-flight requests");
    try {
      await tagd.close();
      process.exit(0);
    } catch (err) {
      tagd.app.log.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  await tagd.app.listen({ host: opts.host, port });
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(`tagd: ${err.message}`);
    process.exit(2);
  }
  console.error("tagd: failed to start:", err);
  process.exit(1);
});
