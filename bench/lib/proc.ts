// Resource figures of a child process read straight from /proc (Linux), and a description of the
// machine, so every result file says where its numbers come from.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

let clockTicks: number | undefined;

/** Kernel clock ticks per second (the unit of utime/stime in /proc/<pid>/stat); almost always 100. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function statusField(pid: number, field: string): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(text);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resident memory now, bytes (VmRSS); null once the process is gone. */
export function rssBytes(pid: number): number | null {
  return statusField(pid, "VmRSS");
}

/** Highest resident memory the process ever had, bytes (VmHWM). */
export function peakRssBytes(pid: number): number | null {
  return statusField(pid, "VmHWM");
}

/** User + system CPU time the process has used so far, seconds. */
export function cpuSeconds(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime is field 14 and stime field 15.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return null;
  }
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  loadAverage: [number, number, number];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const load = os.loadavg();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: [load[0] ?? 0, load[1] ?? 0, load[2] ?? 0],
  };
}
