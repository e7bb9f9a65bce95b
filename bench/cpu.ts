import { readFileSync } from "node:fs";

/**
 * Where the machine's CPU went during a measurement: the server under test, this process (the load
 * generator), and everything else. "Everything else" is what makes a run noisy on a shared machine —
 * and on PostgreSQL it includes the database server. Read from /proc; absent where /proc is not.
 */
export interface CpuShare {
  /** Percent of one core. */
  server: number;
  bench: number;
  other: number;
  /** Percent of one core, summed over all cores: the machine's capacity is 100 × cores. */
  capacity: number;
}

interface Snapshot {
  busyTicks: number;
  totalTicks: number;
  serverTicks: number;
  benchMicros: number;
  at: bigint;
}

/** USER_HZ: 100 on every Linux that matters, and what /proc/stat counts in. */
const TICKS_PER_SECOND = 100;

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
    // /proc/<pid>/stat: the command may hold spaces; fields after ")" start at field 3 (state).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const server = Number(fields[11]) + Number(fields[12]);
    return { busy: total - idle, total, server };
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(pid: number): Snapshot | undefined {
  const ticks = readTicks(pid);
  if (!ticks) return undefined;
  const usage = process.cpuUsage();
  return {
    busyTicks: ticks.busy,
    totalTicks: ticks.total,
    serverTicks: ticks.server,
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
  const busy = pct(b.busyTicks - a.busyTicks);
  const capacity = pct(b.totalTicks - a.totalTicks);
  return { server, bench, other: Math.max(0, busy - server - bench), capacity };
}
