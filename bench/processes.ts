import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";

/**
 * Child processes and what must be undone on the way out. Children are killed and temporary
 * directories removed on a normal end, an error and Ctrl-C alike; asynchronous clean-ups (dropping a
 * PostgreSQL schema) run on the normal path and on Ctrl-C, before exiting.
 */
const children = new Set<ChildProcess>();
const syncCleanups = new Set<() => void>();
const asyncCleanups = new Set<() => Promise<void>>();

export function onCleanup(fn: () => void): () => void {
  syncCleanups.add(fn);
  return () => syncCleanups.delete(fn);
}

export function onAsyncCleanup(fn: () => Promise<void>): () => void {
  asyncCleanups.add(fn);
  return () => asyncCleanups.delete(fn);
}

function killAll() {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const fn of syncCleanups) {
    try {
      fn();
    } catch {
      // best effort on the way out
    }
  }
  syncCleanups.clear();
}

export async function cleanupAll(): Promise<void> {
  for (const fn of asyncCleanups) {
    try {
      await fn();
    } catch (err) {
      console.error(`clean-up failed: ${(err as Error).message}`);
    }
  }
  asyncCleanups.clear();
  killAll();
}

let interrupted = false;
export function installExitHandlers(): void {
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      console.error(`\n${signal}: stopping children and cleaning up…`);
      for (const child of children) child.kill("SIGTERM");
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface Child {
  process: ChildProcess;
  pid: number;
  alive(): boolean;
  /** The last lines it wrote, for an error message. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node <args>` in `cwd`, keeping the tail of its output. */
export function startNode(args: string[], cwd: string, onLine?: (line: string) => void): Child {
  const child = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const tail: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line === "") continue;
      onLine?.(line);
      if (process.env.TAGD_BENCH_ECHO) process.stderr.write(`[tagd] ${line}\n`);
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => children.delete(child));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    process: child,
    pid: child.pid ?? -1,
    alive,
    output: () => tail.join("\n"),
    async stop(graceMs = 10_000) {
      if (!alive()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A field of /proc/<pid>/status in bytes (`VmRSS`, `VmHWM`), or undefined where /proc is unreadable. */
export function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples VmRSS every `intervalMs` and keeps the largest, in case VmHWM cannot be read at the end. */
export class RssSampler {
  maxBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const rss = procStatusBytes(this.pid, "VmRSS");
    if (rss !== undefined && rss > this.maxBytes) this.maxBytes = rss;
  }

  /** Reads the kernel's high-water mark (call while the process lives) and stops sampling. */
  finish(): { hwmBytes?: number; sampledMaxBytes: number } {
    this.sample();
    clearInterval(this.timer);
    return { hwmBytes: procStatusBytes(this.pid, "VmHWM"), sampledMaxBytes: this.maxBytes };
  }
}
