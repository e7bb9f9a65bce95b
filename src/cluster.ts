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
 * that dies (after a growing pause when workers keep dying soon after they start, so a crash loop
 * does not spin two cores); and on SIGTERM or SIGINT stops them all, each finishing its in-flight
 * requests. A second SIGTERM or SIGINT kills the workers still running.
 */
/** A worker that dies sooner than this after it was started counts towards the restart pause. */
const QUICK_DEATH_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

export async function superviseWorkers(count: number, logLevel: string): Promise<void> {
  const log = pino({ level: logLevel, base: { role: "primary", pid: process.pid } });
  const live = new Set<Worker>();
  let stopping = false;
  let exitCode = 0;
  const startedAt = new WeakMap<Worker, number>();
  let quickDeaths = 0;

  const exitWhenAllGone = () => {
    if (live.size === 0) process.exit(exitCode);
  };

  const start = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      live.add(worker);
      startedAt.set(worker, Date.now());
      let listening = false;
      worker.once("listening", () => {
        listening = true;
        log.info({ worker: worker.process.pid }, "worker listening");
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
      // The first failure's code is the one reported.
      if (code !== 0 && exitCode === 0) exitCode = 1;
      exitWhenAllGone();
      return;
    }
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    quickDeaths = lived < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    const delay = quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (quickDeaths - 1));
    log.error({ worker: worker.process.pid, code, signal, lived, delay }, "worker died: starting another");
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await start();
        return;
      } catch (err) {
        log.error({ err, attempt }, "replacement worker failed to start");
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RESTART_DELAY_MS, 1000 * attempt)));
      }
    }
  };

  const stopAll = () => {
    stopping = true;
    for (const worker of live) worker.process.kill("SIGTERM");
    exitWhenAllGone();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // Asked again: whatever has not finished by now is not waited for.
      log.warn({ signal, workers: live.size }, "second signal: killing the workers left");
      if (exitCode === 0) exitCode = 1;
      for (const worker of live) worker.process.kill("SIGKILL");
      exitWhenAllGone();
      return;
    }
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
