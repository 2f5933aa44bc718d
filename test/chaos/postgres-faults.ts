// The faults PostgreSQL can deal a leader in a chaos run with several instances: pg_terminate_backend
// of its lease connection, or of every connection its process holds (found by the process's TCP ports,
// read from /proc).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import pg from "pg";
import { LEASE_NAME } from "../../src/store/index.js";

export async function asAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Local TCP ports of a process's sockets (Linux): its fds' socket inodes, looked up in /proc/net/tcp*. */
export function tcpPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return new Set();
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9]!)) continue;
      const port = Number.parseInt(fields[1]!.split(":").at(-1)!, 16);
      if (Number.isFinite(port)) ports.add(port);
    }
  }
  return ports;
}

export interface Terminated {
  /** Backends ended. */
  ended: number;
  /** What was ended, for the progress line. */
  what: string;
}

/** Ends the lease connection the lease row names for `holder` (BOT_INSTANCE_NAME). */
export async function terminateLeaseConnection(url: string, holder: string): Promise<Terminated> {
  return asAdmin(url, async (c) => {
    const { rows } = await c.query<{ backend_pid: string | null }>(
      "SELECT backend_pid FROM leader_lease WHERE name = $1 AND holder = $2",
      [LEASE_NAME, holder],
    );
    const pid = rows[0]?.backend_pid;
    if (pid === null || pid === undefined) return { ended: 0, what: `no lease row held by ${holder}` };
    const ended = await c.query<{ ok: boolean }>("SELECT pg_terminate_backend($1) AS ok", [Number(pid)]);
    return { ended: ended.rows[0]?.ok ? 1 : 0, what: `lease connection (backend ${pid})` };
  });
}

/** Ends every backend whose client is one of the process's sockets. */
export async function terminateConnectionsOf(url: string, processPid: number): Promise<Terminated> {
  const ports = [...tcpPortsOf(processPid)];
  if (ports.length === 0) return { ended: 0, what: "no sockets found" };
  return asAdmin(url, async (c) => {
    const { rows } = await c.query<{ pid: number; application_name: string }>(
      `SELECT pid, application_name FROM pg_stat_activity
        WHERE client_port = ANY($1::int[]) AND pid <> pg_backend_pid()`,
      [ports],
    );
    let ended = 0;
    for (const row of rows) {
      const result = await c.query<{ ok: boolean }>("SELECT pg_terminate_backend($1) AS ok", [row.pid]);
      if (result.rows[0]?.ok) ended++;
    }
    const names = [...new Set(rows.map((r) => r.application_name))].join(", ");
    return { ended, what: `${ended} connections (${names || "none"})` };
  });
}
