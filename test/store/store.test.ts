import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store, StoreLockedError } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { tempDir } from "../helpers/tmp.js";

const incident = (n: number, createdMs: number) => incidentSummary(n, createdMs);

let tmp: ReturnType<typeof tempDir>;
let store: Store | undefined;
let clock = 1_700_000_000_000;

beforeEach(() => {
  tmp = tempDir();
  clock = 1_700_000_000_000;
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  tmp.cleanup();
});

async function open(): Promise<Store> {
  store = await openStore(join(tmp.dir, "nested", "bot.db"), { now: () => clock });
  return store;
}

describe("opening the database", () => {
  it("creates the folder and a private WAL database", async () => {
    const s = await open();
    const mode = statSync(s.path).mode & 0o777;
    expect(mode).toBe(0o600);
    const raw = new SQLite(s.path, { readonly: true });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    const tables = raw.prepare("select name from sqlite_master where type='table'").all() as {
      name: string;
    }[];
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["chats", "incidents", "outbox", "audit", "settings", "approval_messages"]),
    );
    raw.close();
  });

  it("refuses a second opener of the same file in this process", async () => {
    const s = await open();
    await expect(openStore(s.path)).rejects.toBeInstanceOf(StoreLockedError);
    await expect(openStore(s.path)).rejects.toThrow(/BOT_DB_PATH: another mpsiem-telegram process/);
  });

  it("refuses a second process, and lets one in once the first has closed", async () => {
    const s = await open();
    const script = `import { openStore } from ${JSON.stringify(join(process.cwd(), "src/store/index.ts"))};
      try { const s = await openStore(process.argv[1]); console.log("opened"); await s.close(); }
      catch (e) { console.log(e.name + ": " + e.message); process.exitCode = 3; }`;
    const run = () =>
      new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "--input-type=module", "-e", script, s.path],
          {
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.stderr.on("data", (d) => {
          out += d;
        });
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`child timed out: ${out}`));
        }, 30_000);
        child.on("exit", (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
    const refused = await run();
    expect(refused.code).toBe(3);
    expect(refused.out).toContain("StoreLockedError");
    await s.close();
    store = undefined;
    const admitted = await run();
    expect(admitted.out).toContain("opened");
    expect(admitted.code).toBe(0);
  });

  it("keeps its state across a reopen", async () => {
    let s = await open();
    await s.chats.remember({ id: 42, kind: "private", firstName: "Ivan" });
    await s.chats.setState(42, "allowed", 1);
    await s.settings.set("k", "v");
    await s.close();
    s = await open();
    expect((await s.chats.get(42))?.state).toBe("allowed");
    expect(await s.settings.get("k")).toBe("v");
  });
});

describe("ingest and the outbox", () => {
  it("queues each new incident once per chat receiving at that time, and moves the watermark only forward", async () => {
    const s = await open();
    await s.chats.remember({ id: 1, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    await s.chats.remember({ id: -100, kind: "supergroup", title: "SOC" });
    await s.chats.setState(-100, "allowed", null);
    await s.chats.remember({ id: 2, kind: "private" }); // pending: receives nothing

    const first = await s.incidents.ingest([incident(2, 2000), incident(1, 1000)], 2000);
    expect(first.added).toEqual([incident(1, 0).id, incident(2, 0).id]); // oldest first
    expect(first.queued).toBe(4);
    expect(await s.incidents.watermark()).toBe(2000);

    // The same incidents again (the overlap window) add nothing; an older watermark is ignored.
    const again = await s.incidents.ingest([incident(1, 1000), incident(2, 2000), incident(3, 1500)], 1500);
    expect(again.added).toEqual([incident(3, 0).id]);
    expect(await s.incidents.watermark()).toBe(2000);

    const pending = await s.outbox.pending();
    expect(pending).toHaveLength(6);
    expect(pending.map((p) => p.chatId).sort()).toEqual([-100, -100, -100, 1, 1, 1]);
    expect((await s.outbox.pendingCounts()).get(1)).toBe(3);
  });

  it("never returns a row again once its message id is recorded", async () => {
    const s = await open();
    await s.chats.remember({ id: 1, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    await s.incidents.ingest([incident(1, 1000), incident(2, 2000)], null);
    const [row] = await s.outbox.pending(1);
    await s.outbox.markSent([row!.id], 555, "single", 1);
    await s.outbox.markSent([row!.id], 777, "single", 1); // a late duplicate does not overwrite
    const left = await s.outbox.pending();
    expect(left.map((r) => r.id)).not.toContain(row!.id);
    expect(await s.outbox.copies(row!.incidentId)).toEqual([
      expect.objectContaining({ chatId: 1, messageId: 555, via: "single" }),
    ]);
  });

  it("holds a denied chat's rows out of the queue and cancels them on request", async () => {
    const s = await open();
    await s.chats.remember({ id: 1, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    await s.incidents.ingest([incident(1, 1000)], null);
    await s.chats.setState(1, "denied", 9);
    expect(await s.outbox.pending()).toHaveLength(0);
    expect(await s.outbox.cancelForChat(1, "denied by 9")).toBe(1);
    expect((await s.outbox.totals()).cancelled).toBe(1);
  });

  it("marks copies stale when what they show changes, and not otherwise", async () => {
    const s = await open();
    await s.chats.remember({ id: 1, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    const inc = incident(1, 1000);
    await s.incidents.ingest([inc], null);
    const [row] = await s.outbox.pending();
    await s.outbox.markSent([row!.id], 10, "single", 1);
    const same = await s.incidents.refresh(inc);
    expect(same?.changed).toBe(false);
    expect(await s.outbox.staleCopies()).toHaveLength(0);

    const approved = await s.incidents.refresh({ ...inc, status: "Approved" }, undefined, {
      status: "Approved",
      by: "@ivan",
      at: new Date(5000),
    });
    expect(approved?.changed).toBe(true);
    expect(approved?.incident.lastAction?.by).toBe("@ivan");
    const stale = await s.outbox.staleCopies();
    expect(stale).toEqual([
      expect.objectContaining({ chatId: 1, messageId: 10, renderedVersion: 1, version: 2 }),
    ]);
    await s.outbox.setRenderedVersion(stale[0]!.id, 2);
    expect(await s.outbox.staleCopies()).toHaveLength(0);
  });

  it("stores events and reads them back with dates", async () => {
    const s = await open();
    const inc = incident(1, 1000);
    await s.incidents.ingest([inc], null);
    await s.incidents.refresh(
      { ...inc, description: "Описание <b>" },
      {
        events: [{ id: "e1", date: new Date("2024-03-12T06:12:07Z"), description: "Ошибка" }],
        total: 202,
      },
    );
    const got = await s.incidents.get(inc.id);
    expect(got?.events[0]?.date?.toISOString()).toBe("2024-03-12T06:12:07.000Z");
    expect(got?.totalEvents).toBe(202);
    expect(got?.description).toBe("Описание <b>");
    expect(got?.enrichedAt).toBe(clock);
  });
});

describe("chats", () => {
  it("moves a migrated group with its state and its undelivered rows", async () => {
    const s = await open();
    await s.chats.remember({ id: -5, kind: "group", title: "Old" });
    await s.chats.setState(-5, "allowed", 1);
    await s.chats.setThread(-5, null);
    await s.incidents.ingest([incident(1, 1000)], null);
    expect(await s.chats.migrate(-5, -1005)).toBe(true);
    expect(await s.chats.get(-5)).toBeUndefined();
    const moved = await s.chats.get(-1005);
    expect(moved).toMatchObject({ state: "allowed", kind: "supergroup", title: "Old" });
    expect((await s.outbox.pending()).map((p) => p.chatId)).toEqual([-1005]);
    expect(await s.chats.migrate(-77, -1077)).toBe(false);
  });

  it("lists recipients: allowed and active only", async () => {
    const s = await open();
    for (const id of [1, 2, 3]) await s.chats.remember({ id, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    await s.chats.setState(2, "allowed", null);
    await s.chats.setActive(2, false, "blocked the bot");
    await s.chats.setState(3, "banned", null);
    expect((await s.chats.recipients()).map((c) => c.id)).toEqual([1]);
    expect((await s.chats.list(["banned"])).map((c) => c.id)).toEqual([3]);
    // Allowing again reactivates.
    await s.chats.setState(2, "allowed", null);
    expect((await s.chats.recipients()).map((c) => c.id)).toEqual([1, 2]);
  });

  it("writes the audit log", async () => {
    const s = await open();
    await s.audit.record({
      actorId: 7,
      actorName: "@admin",
      chatId: 7,
      action: "chat.allow",
      target: "42",
      result: "ok",
    });
    const [entry] = await s.audit.recent();
    expect(entry).toMatchObject({ actor_id: 7, action: "chat.allow", target: "42", result: "ok", at: clock });
  });
});
