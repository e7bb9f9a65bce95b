import { readdirSync, readFileSync } from "node:fs";
import { processTree } from "./processes.ts";

/**
 * Where the machine's CPU went during a measurement: the server under test (all its processes, with
 * `--workers`), this process (the load generator), and everything else. "Everything else" is what makes a run noisy on a shared machine —
 * and on PostgreSQL it includes the database server. Read from /proc; absent where /proc is not.
 */
export interface CpuShare {
  /** Percent of one core. */
  server: number;
  bench: number;
  /** The database server's processes (PostgreSQL), when asked for. */
  database?: number;
  other: number;
  /** Percent of one core, summed over all cores: the machine's capacity is 100 × cores. */
  capacity: number;
}

interface Snapshot {
  busyTicks: number;
  totalTicks: number;
  serverTicks: number;
  databaseTicks?: number;
  benchMicros: number;
  at: bigint;
}

/** USER_HZ: 100 on every Linux that matters, and what /proc/stat counts in. */
const TICKS_PER_SECOND = 100;

/** utime + stime of a process, from /proc/<pid>/stat. */
function processTicks(stat: string): number {
  // The command may hold spaces; the fields after ")" start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU ticks of every process whose command is `comm` (PostgreSQL's server and backends). */
function ticksOfCommand(comm: string): number {
  let sum = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === comm) sum += processTicks(stat);
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

function readTicks(pid: number): { busy: number; total: number; server: number } | undefined {
  try {
    const cpu = readFileSync("/proc/stat", "utf8")
      .split("\n", 1)[0]
      ?.trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    if (!cpu || cpu.length < 5) return undefined;
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    let server = 0;
    for (const member of processTree(pid)) {
      try {
        server += processTicks(readFileSync(`/proc/${member}/stat`, "utf8"));
      } catch {
        // gone meanwhile
      }
    }
    return { busy: total - idle, total, server };
  } catch {
    return undefined;
  }
}

/** `databaseComm`: also count the processes of this command apart (`postgres`). */
export function cpuSnapshot(pid: number, databaseComm?: string): Snapshot | undefined {
  const ticks = readTicks(pid);
  if (!ticks) return undefined;
  const usage = process.cpuUsage();
  return {
    busyTicks: ticks.busy,
    totalTicks: ticks.total,
    serverTicks: ticks.server,
    ...(databaseComm ? { databaseTicks: ticksOfCommand(databaseComm) } : {}),
    benchMicros: usage.user + usage.system,
    at: process.hrtime.bigint(),
  };
}

export function cpuShare(a: Snapshot | undefined, b: Snapshot | undefined): CpuShare | undefined {
  if (!a || !b) return undefined;
  const seconds = Number(b.at - a.at) / 1e9;
  if (seconds <= 0) return undefined;
  const pct = (ticks: number) => (ticks / TICKS_PER_SECOND / seconds) * 100;
  const server = pct(b.serverTicks - a.serverTicks);
  const bench = ((b.benchMicros - a.benchMicros) / 1e6 / seconds) * 100;
  const database =
    a.databaseTicks !== undefined && b.databaseTicks !== undefined
      ? Math.max(0, pct(b.databaseTicks - a.databaseTicks))
      : undefined;
  const busy = pct(b.busyTicks - a.busyTicks);
  const capacity = pct(b.totalTicks - a.totalTicks);
  return {
    server,
    bench,
    ...(database === undefined ? {} : { database }),
    other: Math.max(0, busy - server - bench - (database ?? 0)),
    capacity,
  };
}

/**
 * Waits (at most `maxMs`) until the process tree of `pid` has used at most a tenth of a core over
 * 100 ms, e.g. tagd's checkpointer still copying a write load's WAL back, which would otherwise slow
 * a measurement that follows. Where /proc cannot be read, returns at once.
 */
export async function settled(pid: number, maxMs = 2000): Promise<void> {
  const started = Date.now();
  let last = readTicks(pid)?.server;
  while (last !== undefined && Date.now() - started < maxMs) {
    await new Promise((r) => setTimeout(r, 100));
    const now = readTicks(pid)?.server;
    if (now === undefined || now - last <= 1) return;
    last = now;
  }
}
