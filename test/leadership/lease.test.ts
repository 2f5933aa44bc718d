// The leader lease on a real PostgreSQL: two contenders in this process, each with its own lease
// connection, as two instances would have. One wins; the holder whose connection is ended from outside
// (pg_terminate_backend) stops leading at once, before the other takes over; a holder cut off by a
// network split stops by its own deadline, the other takes over only once the lease has expired by the
// database's clock (ending the lingering session), and the stale leader's fenced writes are refused.

import pg from "pg";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Metrics } from "../../src/http/metrics.js";
import { actingMarginMs, PostgresLease, type Term } from "../../src/leadership/index.js";
import { FencedError, openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { createPostgresDatabase, type TestPostgresDatabase } from "../helpers/postgres.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const TTL_MS = 1_500;
const silent = pino({ level: "silent" });

interface Contender {
  lease: PostgresLease;
  metrics: Metrics;
  acquired: Array<{ at: number; term: Term }>;
  lost: Array<{ at: number; reason: string }>;
}

function contender(url: string, instance: string): Contender {
  const metrics = new Metrics({ processMetrics: false });
  const c: Contender = { lease: undefined as unknown as PostgresLease, metrics, acquired: [], lost: [] };
  c.lease = new PostgresLease({
    url,
    instance,
    ttlMs: TTL_MS,
    metrics,
    logger: silent,
    heartbeat: async () => {},
    events: {
      onAcquired: (term) => c.acquired.push({ at: performance.now(), term }),
      onLost: (reason) => c.lost.push({ at: performance.now(), reason }),
    },
  });
  return c;
}

async function until(what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function adminQuery<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function leaseRow(url: string) {
  const [row] = await adminQuery<{ holder: string; epoch: string; backend_pid: string; expires_at: string }>(
    url,
    "SELECT holder, epoch, backend_pid, expires_at FROM leader_lease WHERE name = 'leader'",
  );
  return row
    ? { holder: row.holder, epoch: Number(row.epoch), backendPid: Number(row.backend_pid) }
    : undefined;
}

describe("the leader lease on PostgreSQL", () => {
  let database: TestPostgresDatabase;
  let store: Store;
  const running: Contender[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    store = await openStore(database.url); // the migrations make the lease table
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.lease.stop()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await adminQuery(database.url, "DELETE FROM leader_lease");
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  function start(name: string, url = database.url): Contender {
    const c = contender(url, name);
    running.push(c);
    return c;
  }

  it("lets exactly one of two contenders lead, and the other take over at once when the leader gives up", async () => {
    const a = start("a");
    const b = start("b");
    await a.lease.start();
    await b.lease.start();
    expect(a.lease.acting()).toBe(true);
    expect(b.lease.acting()).toBe(false);
    expect(a.acquired.map((x) => x.term)).toEqual([{ epoch: 1, previousHolder: null }]);
    expect(b.acquired).toEqual([]);
    expect(await leaseRow(database.url)).toMatchObject({ holder: "a", epoch: 1 });
    expect(a.lease.status()).toMatchObject({ role: "leader", epoch: 1, problems: [] });
    expect(b.lease.status()).toMatchObject({ role: "standby", problems: [] });

    // Renewals keep it: after several TTLs the same leader, the same epoch.
    await new Promise((resolve) => setTimeout(resolve, 2 * TTL_MS));
    expect(a.lease.acting()).toBe(true);
    expect(b.acquired).toEqual([]);
    expect(await a.metrics.total(a.metrics.leaseRenewals)).toBeGreaterThanOrEqual(3);

    // A clean stop expires the lease and frees the lock: the standby need not wait for the TTL.
    const stoppedAt = performance.now();
    await a.lease.stop();
    await until("b leads", () => b.lease.acting(), TTL_MS);
    expect(b.acquired[0]!.at - stoppedAt).toBeLessThan(TTL_MS);
    expect(b.acquired[0]!.term).toEqual({ epoch: 2, previousHolder: "a" });
  });

  it("stops leading the moment its lease connection is terminated, before the standby takes over", async () => {
    const a = start("a");
    const b = start("b");
    await a.lease.start();
    await b.lease.start();
    const before = await leaseRow(database.url);
    expect(before?.holder).toBe("a");

    const killedAt = performance.now();
    await adminQuery(database.url, "SELECT pg_terminate_backend($1)", [before!.backendPid]);
    await until("a reports the loss", () => a.lost.length > 0, 1_000);
    expect(a.lease.acting()).toBe(false);
    expect(a.lost[0]!.reason).toMatch(/lease connection failed \(57P01/);
    expect(a.lost[0]!.at - killedAt).toBeLessThan(500);

    // The standby takes over within the TTL (its next look finds the lock free and the holder gone) ...
    await until("b leads", () => b.lease.acting(), TTL_MS);
    expect(b.acquired[0]!.at).toBeGreaterThan(a.lost[0]!.at);
    expect(b.acquired[0]!.term).toEqual({ epoch: 2, previousHolder: "a" });
    // ... and the instance that just lost does not grab it back: it lets a standby go first.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    expect(a.acquired).toHaveLength(1);
    expect(await a.metrics.total(a.metrics.leadershipLosses)).toBe(1);
    expect(await b.metrics.total(b.metrics.takeovers)).toBe(1);
  });

  it("cut off from the database, stops by its own deadline; the standby takes over after the expiry, and the old epoch's writes are refused", async () => {
    const { hostname, port } = new URL(database.url);
    const proxy = await startTcpProxy(hostname, Number(port));
    proxies.push(proxy);
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const a = start("a", viaProxy.toString());
    const b = start("b");
    await a.lease.start();
    await b.lease.start();
    expect(a.lease.acting()).toBe(true);

    // A chat and a pending row, for a fenced write.
    await store.chats.ensure(1, "allowed", null);
    await store.incidents.ingest([incidentSummary(1)], null);
    const [row] = await store.outbox.pending();
    expect(row).toBeDefined();

    const cutAt = performance.now();
    proxy.cut(); // a network split: the server keeps a's session (and its lock) until someone ends it
    await until("a stops leading", () => !a.lease.acting(), TTL_MS);
    const stoppedAt = performance.now();
    // It never acts past its own deadline: TTL − margin after its last renewal was sent.
    expect(stoppedAt - cutAt).toBeLessThan(TTL_MS - actingMarginMs(TTL_MS) + 100);

    await until("b leads", () => b.lease.acting(), 3 * TTL_MS);
    expect(b.acquired[0]!.at).toBeGreaterThan(stoppedAt);
    // Only once the lease had expired by the database's clock: at least TTL after a's last renewal.
    expect(b.acquired[0]!.at - cutAt).toBeGreaterThan(TTL_MS - TTL_MS / 3);
    expect(b.acquired[0]!.term).toEqual({ epoch: 2, previousHolder: "a" });
    const after = await leaseRow(database.url);
    expect(after).toMatchObject({ holder: "b", epoch: 2 });

    // The stale leader's writes, fenced on epoch 1, are refused; the new leader's go through.
    const stale = store.fenced(1);
    await expect(stale.outbox.markSent([row!.id], 100, "single", 1)).rejects.toBeInstanceOf(FencedError);
    await expect(stale.settings.set("intake.changeCursor", "1")).rejects.toBeInstanceOf(FencedError);
    await expect(stale.incidents.ingest([incidentSummary(2)], 1)).rejects.toBeInstanceOf(FencedError);
    expect(await store.incidents.get(incidentSummary(2).id)).toBeUndefined();
    expect((await store.outbox.pending()).map((p) => p.id)).toEqual([row!.id]);
    await store.fenced(2).outbox.markSent([row!.id], 100, "single", 1);
    expect(await store.outbox.pending()).toEqual([]);
  });
});
