// A year of traffic in the store (100,000 incidents delivered to four chats, their audit trail), then:
// the delivery idle loop's per-tick query time and a running service's idle CPU, before and after
// pruning with BOT_RETENTION, and before migration 0003's indexes (the same file with them dropped:
// the queries then walk every delivered row, as they did before). Built with bulk SQL for speed; the
// schema is the one the service creates (openStore runs the migrations first).
import { copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { openStore, type Store } from "../../src/store/index.js";
import { summarize } from "../lib/stats.js";
import { type BenchChat, type ServiceProcess, sleep, World, waitUntil } from "../lib/world.js";

const DAY = 86_400_000;

export interface TickFigures {
  ticks: number;
  /** One idle tick: depthByKind + pendingCounts + staleChatIds, milliseconds. */
  tickP50Ms: number;
  tickP95Ms: number;
  perQueryP50Ms: Record<string, number>;
  /** The read of the last minute's sends at start (sentSince), milliseconds. */
  sentSinceMs: number;
  /** SQLite's plan for the outbox step of staleChatIds and sentSince. */
  plans: Record<string, string>;
}

export interface DbSize {
  fileBytes: number;
  /** Pages in use (file minus free pages): what a VACUUM would leave. */
  usedBytes: number;
}

export interface IdleFigures {
  seconds: number;
  cpuPercent: number;
  rssBytes: number | null;
}

export interface RetentionResult {
  incidents: number;
  chats: number;
  rows: { incidents: number; outbox: number; audit: number; total: number };
  rowsAfter: { incidents: number; outbox: number; audit: number; total: number };
  buildSec: number;
  retentionDays: number;
  ticks: { withoutIndexes: TickFigures; beforePruning: TickFigures; afterPruning: TickFigures };
  idle: { withoutIndexes: IdleFigures; beforePruning: IdleFigures; afterPruning: IdleFigures };
  size: { beforePruning: DbSize; afterPruning: DbSize };
  /** What the service logged for its prune at start. */
  prune: {
    incidents: number;
    outbox: number;
    audit: number;
    ms: number;
    batches: number;
    longestBatchMs: number;
  } | null;
}

function chatsOfTheYear(): BenchChat[] {
  return [
    { id: 4242, kind: "private", label: "private" },
    { id: -1001000000001, kind: "supergroup", label: "group A" },
    { id: -1001000000002, kind: "supergroup", label: "group B" },
    { id: -1001000000003, kind: "supergroup", label: "group C" },
  ];
}

const EVENTS_JSON = JSON.stringify(
  [1, 2, 3].map((n) => ({
    id: `00000000-0000-4000-9000-00000000000${n}`,
    date: "2026-01-01T00:00:00.000Z",
    description: `Подозрительный вход пользователя admin${n} на узел srv-${n}.corp.local с адреса 10.0.0.${n}`,
  })),
);

/** Writes a year of delivered history straight into the service's tables (schema already migrated). */
function buildYear(dbPath: string, chats: BenchChat[], incidents: number, now: number): void {
  const db = new SQLite(dbPath);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = OFF");
    const span = 365 * DAY;
    const start = now - span;
    const insertIncident = db.prepare(
      `INSERT INTO incidents (id, key, name, severity, status, type, category, description, created_at,
        modified_at, first_seen_at, events_json, total_events, last_action_json, enriched_at, version, updated_at)
       VALUES (?, ?, ?, ?, ?, 'Undefined', 'Undefined', ?, ?, ?, ?, ?, 3, ?, ?, ?, ?)`,
    );
    const insertOutbox = db.prepare(
      `INSERT INTO outbox (incident_id, chat_id, state, message_id, via, rendered_version, attempts,
        next_attempt_at, last_error, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)`,
    );
    const insertAudit = db.prepare(
      `INSERT INTO audit (at, actor_id, actor_name, chat_id, action, target, result, detail)
       VALUES (?, ?, ?, ?, ?, ?, 'ok', NULL)`,
    );
    const messageIds = new Map(chats.map((c) => [c.id, 1]));
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const seen = Math.floor(start + (i * span) / incidents);
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
        // A fifth of the incidents were acted on (approved, closed): version 3 and a last action.
        const acted = i % 5 === 0;
        insertIncident.run(
          id,
          `INC-${i + 1}`,
          `Rule_${i % 400}`,
          ["Low", "Medium", "High"][i % 3],
          acted ? "Closed" : "New",
          "Brute force on a domain controller",
          seen - 5_000,
          acted ? seen + 3_600_000 : null,
          seen,
          EVENTS_JSON,
          acted
            ? JSON.stringify({
                status: "Closed",
                by: "@soc_lead",
                at: new Date(seen + 3_600_000).toISOString(),
              })
            : null,
          seen + 1_000,
          acted ? 3 : 2,
          seen + 3_600_000,
        );
        for (const chat of chats) {
          const messageId = messageIds.get(chat.id)!;
          messageIds.set(chat.id, messageId + 1);
          // One row in 200 was refused for good; the rest were delivered and show the latest version.
          if (i % 200 === 7) insertOutbox.run(id, chat.id, "cancelled", null, null, 0, "refused", seen, null);
          else
            insertOutbox.run(
              id,
              chat.id,
              "sent",
              messageId,
              "single",
              acted ? 3 : 2,
              null,
              seen,
              seen + 2_000,
            );
        }
        if (acted)
          insertAudit.run(
            seen + 3_600_000,
            9001,
            "@soc_lead",
            chats[i % chats.length]!.id,
            "incident.close",
            id,
          );
        if (i % 2 === 0)
          insertAudit.run(seen + 1_500, null, null, chats[i % chats.length]!.id, "incident.delivered", id);
      }
    });
    for (let i = 0; i < incidents; i += 5_000) batch(i, Math.min(incidents, i + 5_000));
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

function countRows(dbPath: string): { incidents: number; outbox: number; audit: number; total: number } {
  const db = new SQLite(dbPath, { readonly: true });
  try {
    const n = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const rows = { incidents: n("incidents"), outbox: n("outbox"), audit: n("audit") };
    return { ...rows, total: rows.incidents + rows.outbox + rows.audit };
  } finally {
    db.close();
  }
}

function dbSize(dbPath: string): DbSize {
  const db = new SQLite(dbPath, { readonly: true });
  try {
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    const pages = db.pragma("page_count", { simple: true }) as number;
    const free = db.pragma("freelist_count", { simple: true }) as number;
    const wal = existsSync(`${dbPath}-wal`) ? statSync(`${dbPath}-wal`).size : 0;
    return { fileBytes: statSync(dbPath).size + wal, usedBytes: (pages - free) * pageSize };
  } finally {
    db.close();
  }
}

function plansOf(dbPath: string): Record<string, string> {
  const db = new SQLite(dbPath, { readonly: true });
  try {
    const outboxStep = (sql: string, ...params: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>)
        .map((r) => r.detail)
        .filter((d) => /outbox/.test(d))
        .join("; ");
    const hasVersion = (
      db
        .prepare("SELECT count(*) AS n FROM pragma_table_info('outbox') WHERE name = 'incident_version'")
        .get() as {
        n: number;
      }
    ).n;
    return {
      staleChatIds: outboxStep(
        `SELECT DISTINCT outbox.chat_id FROM outbox JOIN incidents ON incidents.id = outbox.incident_id
         JOIN chats ON chats.id = outbox.chat_id WHERE outbox.state = ? AND outbox.via = ?
         AND outbox.message_id IS NOT NULL AND outbox.rendered_version < incidents.version
         ${hasVersion ? "AND outbox.rendered_version < outbox.incident_version" : ""} AND chats.active = ?`,
        "sent",
        "single",
        1,
      ),
      sentSince: outboxStep(
        "SELECT chat_id, max(sent_at) FROM outbox WHERE state = ? AND sent_at >= ? GROUP BY chat_id, message_id",
        "sent",
        Date.now() - 60_000,
      ),
    };
  } finally {
    db.close();
  }
}

/** The idle loop's queries, as delivery's tick() runs them, `ticks` times in a row. */
async function measureTicks(dbPath: string, ticks: number): Promise<TickFigures> {
  const store: Store = await openStore(dbPath);
  try {
    // Warm-up: the first reads fill the page cache; a running service's ticks find it warm.
    for (let i = 0; i < 3; i++) {
      await store.outbox.depthByKind();
      await store.outbox.pendingCounts();
      await store.outbox.staleChatIds();
    }
    const tickMs: number[] = [];
    const per: Record<string, number[]> = { depthByKind: [], pendingCounts: [], staleChatIds: [] };
    for (let i = 0; i < ticks; i++) {
      const t0 = performance.now();
      await store.outbox.depthByKind();
      const t1 = performance.now();
      await store.outbox.pendingCounts();
      const t2 = performance.now();
      await store.outbox.staleChatIds();
      const t3 = performance.now();
      per.depthByKind!.push(t1 - t0);
      per.pendingCounts!.push(t2 - t1);
      per.staleChatIds!.push(t3 - t2);
      tickMs.push(t3 - t0);
    }
    const s0 = performance.now();
    await store.outbox.sentSince(Date.now() - 60_000);
    const sentSinceMs = performance.now() - s0;
    const summary = summarize(tickMs);
    return {
      ticks,
      tickP50Ms: summary.p50,
      tickP95Ms: summary.p95,
      perQueryP50Ms: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, summarize(v).p50])),
      sentSinceMs,
      plans: plansOf(dbPath),
    };
  } finally {
    await store.close();
  }
}

/** Starts the service on `dbPath`, lets it settle, measures its CPU for `seconds`, stops it. */
async function idleService(
  world: World,
  dbPath: string,
  env: Record<string, string>,
  seconds: number,
  beforeMeasuring?: (service: ServiceProcess) => Promise<void>,
): Promise<{ figures: IdleFigures; service: ServiceProcess }> {
  const service = await world.spawn({ pollIntervalSec: 3, env: { BOT_DB_PATH: dbPath, ...env } });
  if ((await world.waitFirstPoll(60_000)) === null)
    throw new Error("the service did not poll the SIEM within 60 s");
  if (beforeMeasuring) await beforeMeasuring(service);
  await sleep(5_000);
  const cpu0 = service.cpu();
  const at0 = Date.now();
  await sleep(seconds * 1000);
  const cpu1 = service.cpu();
  const at1 = Date.now();
  const rss = service.rss();
  await service.stop();
  if (cpu0 === null || cpu1 === null) throw new Error("cannot read the service's CPU time from /proc");
  const elapsed = (at1 - at0) / 1000;
  return {
    figures: { seconds: elapsed, cpuPercent: ((cpu1 - cpu0) / elapsed) * 100, rssBytes: rss },
    service,
  };
}

export async function runRetention(opts: {
  incidents: number;
  ticks: number;
  idleSec: number;
  seed: number;
}): Promise<RetentionResult> {
  const chats = chatsOfTheYear();
  const world = await World.create({ name: "retention", seed: opts.seed, chats });
  try {
    const buildStart = Date.now();
    await world.allowChats(); // also creates the schema
    const now = Date.now();
    // The watermark sits at the last incident of the year, as after a year of polling.
    await world.withStore((store) => store.incidents.ingest([], now - 60_000));
    buildYear(world.dbPath, chats, opts.incidents, now);
    const buildSec = (Date.now() - buildStart) / 1000;
    const rows = countRows(world.dbPath);
    const sizeBefore = dbSize(world.dbPath);

    // The same file without migration 0003's indexes: the plans the previous release had.
    const withoutPath = join(world.dir, "without-0003-indexes.db");
    copyFileSync(world.dbPath, withoutPath);
    {
      const db = new SQLite(withoutPath);
      db.exec("DROP INDEX outbox_stale; DROP INDEX outbox_sent_at;");
      db.close();
    }

    const withoutIndexes = await measureTicks(withoutPath, opts.ticks);
    const beforePruning = await measureTicks(world.dbPath, opts.ticks);
    // Nothing is older than 400 days: these two runs prune nothing.
    const keepAll = { BOT_RETENTION: "400d" };
    const idleWithout = (await idleService(world, withoutPath, keepAll, opts.idleSec)).figures;
    const idleBefore = (await idleService(world, world.dbPath, keepAll, opts.idleSec)).figures;

    // BOT_RETENTION=90d: the service prunes at start; measured once its prune is done.
    let prune: RetentionResult["prune"] = null;
    const idleAfter = (
      await idleService(world, world.dbPath, { BOT_RETENTION: "90d" }, opts.idleSec, async (service) => {
        const pruned = () =>
          readFileSync(service.logPath, "utf8")
            .split("\n")
            .filter((line) => line.includes("retention: pruned"));
        if (!(await waitUntil(() => pruned().length > 0, 300_000, 200))) {
          throw new Error("the service did not log its prune within 300 s");
        }
        const line = JSON.parse(pruned().at(-1)!) as Record<string, number>;
        prune = {
          incidents: line.incidents ?? 0,
          outbox: line.outbox ?? 0,
          audit: line.audit ?? 0,
          ms: line.ms ?? 0,
          batches: line.batches ?? 0,
          longestBatchMs: line.longestBatchMs ?? 0,
        };
      })
    ).figures;
    const afterPruning = await measureTicks(world.dbPath, opts.ticks);

    return {
      incidents: opts.incidents,
      chats: chats.length,
      rows,
      rowsAfter: countRows(world.dbPath),
      buildSec,
      retentionDays: 90,
      ticks: { withoutIndexes, beforePruning, afterPruning },
      idle: { withoutIndexes: idleWithout, beforePruning: idleBefore, afterPruning: idleAfter },
      size: { beforePruning: sizeBefore, afterPruning: dbSize(world.dbPath) },
      prune,
    };
  } finally {
    await world.close();
  }
}
