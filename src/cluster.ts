import cluster, { type Worker } from "node:cluster";
import pino from "pino";

/**
 * `--workers N`: N processes serve one port (node:cluster; the primary accepts each connection and
 * hands it to the next worker in turn) over one store. Each worker is a whole tagd; they share what
 * must be shared through the store, as instances on one PostgreSQL database do (pagination secret,
 * nonces, job leases, cached reads that check the store's version). On SQLite the workers take turns
 * at the file's write lock.
 *
 * The primary only supervises, so it loads none of the server: it starts the first worker alone (it
 * migrates the store and applies the configuration's resources), then the others; replaces a worker
 * that dies; and on SIGTERM or SIGINT stops them all, each finishing its in-flight requests.
 */
export async function superviseWorkers(count: number, logLevel: string): Promise<void> {
  const log = pino({ level: logLevel, base: { role: "primary", pid: process.pid } });
  const live = new Set<Worker>();
  let stopping = false;
  let exitCode = 0;

  const exitWhenAllGone = () => {
    if (live.size === 0) process.exit(exitCode);
  };

  const start = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      live.add(worker);
      let listening = false;
      worker.once("listening", () => {
        listening = true;
        resolve(worker);
      });
      worker.once("exit", (code, signal) => {
        live.delete(worker);
        if (!listening) {
          reject(Object.assign(new Error(`worker exited during start-up (${signal ?? code})`), { code }));
          if (stopping) exitWhenAllGone();
          return;
        }
        void replace(worker, code, signal);
      });
    });

  const replace = async (worker: Worker, code: number | null, signal: string | null) => {
    // A worker that stopped cleanly was told to (a signal to the whole process group, as Ctrl-C
    // sends): it is not replaced, and the primary follows once the last one is gone.
    if (stopping || code === 0) {
      if (code !== 0) exitCode = 1;
      exitWhenAllGone();
      return;
    }
    log.error({ worker: worker.process.pid, code, signal }, "worker died: starting another");
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await start();
        return;
      } catch (err) {
        log.error({ err, attempt }, "replacement worker failed to start");
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * attempt)));
      }
    }
  };

  const stopAll = () => {
    stopping = true;
    for (const worker of live) worker.process.kill("SIGTERM");
    exitWhenAllGone();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    log.info({ signal }, "shutting down: stopping the workers");
    stopAll();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  try {
    // The first alone: it runs the migrations and writes the configuration's resources.
    await start();
    await Promise.all(Array.from({ length: count - 1 }, () => start()));
  } catch (err) {
    // A worker that cannot start (bad configuration, unreachable database, port taken) has said why
    // on its own stderr; its exit code is the primary's.
    exitCode = (err as { code?: number }).code || 1;
    stopAll();
    return;
  }
  log.info({ workers: count }, "all workers listening");
}
