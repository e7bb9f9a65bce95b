import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
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

/** A field of /proc/<pid>/status in bytes (`VmRSS`, `VmHWM`, …), or undefined where /proc is unreadable. */
export function procStatusBytes(
  pid: number,
  field: "VmRSS" | "VmHWM" | "RssAnon" | "RssFile" | "RssShmem",
): number | undefined {
  try {
    return statusField(readFileSync(`/proc/${pid}/status`, "utf8"), field);
  } catch {
    return undefined;
  }
}

function statusField(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * A process and its descendants (tagd with `--workers`: the primary and its workers), from each
 * thread's list of the children it started (/proc/<pid>/task/<tid>/children); just `pid` where
 * /proc does not say.
 */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    out.push(next);
    try {
      for (const task of readdirSync(`/proc/${next}/task`)) {
        const children = readFileSync(`/proc/${next}/task/${task}/children`, "utf8").trim();
        if (children) queue.push(...children.split(" ").map(Number));
      }
    } catch {
      // gone meanwhile, or no /proc
    }
  }
  return out;
}

/**
 * The memory a process tree holds: every process's private pages (RssAnon, RssShmem) and the file
 * pages once (the largest RssFile: the processes run the same node binary and libraries, whose pages
 * they share). For one process this is its VmRSS. Undefined where /proc is unreadable.
 */
export function treeMemoryBytes(pids: number[]): number | undefined {
  let own = 0;
  let files = 0;
  let seen = false;
  for (const pid of pids) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, "utf8");
    } catch {
      continue;
    }
    const anon = statusField(status, "RssAnon");
    if (anon === undefined) continue;
    seen = true;
    own += anon + (statusField(status, "RssShmem") ?? 0);
    files = Math.max(files, statusField(status, "RssFile") ?? 0);
  }
  return seen ? own + files : undefined;
}

/**
 * Samples the memory of tagd's processes every `intervalMs` and keeps the largest. With one process
 * the kernel's high-water mark (VmHWM) is read at the end as well; with several (`--workers`) their
 * marks fall at different times and cannot be added up, so the sampled peak is what counts.
 */
export class RssSampler {
  maxBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private pids: number[];
  private samples = 0;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.pids = processTree(pid);
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    // Workers are looked up again now and then: one replaced after a crash has a new pid.
    if (this.samples++ % 50 === 0) this.pids = processTree(this.pid);
    const bytes = treeMemoryBytes(this.pids);
    if (bytes !== undefined && bytes > this.maxBytes) this.maxBytes = bytes;
  }

  /** Stops sampling; reads the high-water mark too (call while tagd lives) when tagd is one process. */
  finish(): { hwmBytes?: number; sampledMaxBytes: number; processes: number } {
    this.pids = processTree(this.pid);
    this.sample();
    clearInterval(this.timer);
    const processes = this.pids.length;
    return {
      hwmBytes: processes === 1 ? procStatusBytes(this.pid, "VmHWM") : undefined,
      sampledMaxBytes: this.maxBytes,
      processes,
    };
  }
}
