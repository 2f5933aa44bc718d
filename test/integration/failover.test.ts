// Two real service processes (`node dist/cli.js run`) on one PostgreSQL database, the MP SIEM emulator
// and the fake Bot API in this process. Each process reaches the fake through its own recording proxy,
// so every Telegram call is known by the process that made it and the moment it arrived.
//   - One leads, the other stands by: /healthz, /metrics and /debug say which; the standby calls nothing.
//   - SIGKILL of the leader in the middle of a burst, with incidents still arriving: the standby leads
//     within BOT_LEASE_TTL + one poll interval, nothing is lost, and a chat sees at most one message again
//     (the last one the killed process sent there). Restarted, the old leader stands by.
//   - The leader cut off from PostgreSQL (its lease connection terminated) makes its last call to
//     Telegram before the other instance makes its first.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BotApiProxy, startBotApiProxy } from "../helpers/botapi-proxy.js";
import { createPostgresDatabase, type TestPostgresDatabase } from "../helpers/postgres.js";
import {
  ADMIN,
  CHATS,
  type ChildService,
  ensureBuilt,
  freePort,
  keysIn,
  PRIVATE_CHAT,
  sleep,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

const TTL_MS = 3_000;
const POLL_MS = 500;
type Name = "a" | "b";

interface Health {
  status: number;
  body: { ok: boolean; role: string; instance: string; reasons: string[]; lease: { epoch: number | null } };
}

function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : Number.NaN;
}

describe("two instances on one PostgreSQL database", () => {
  let database: TestPostgresDatabase;
  let world: World;
  const proxies = {} as Record<Name, BotApiProxy>;
  const ports = {} as Record<Name, number>;
  const children = {} as Record<Name, ChildService>;
  /** Keys of everything the tests created, for the final verdict. */
  const allKeys: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    database = await createPostgresDatabase();
    world = await startWorld({ dbUrl: database.url });
    await world.allowInStore();
    for (const name of ["a", "b"] as const) {
      proxies[name] = await startBotApiProxy(world.fake.apiRoot);
      ports[name] = await freePort();
    }
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await Promise.all(Object.values(proxies).map((p) => p.close()));
    await database?.drop();
  });

  function startInstance(name: Name): ChildService {
    children[name] = world.startChild({
      BOT_LEASE_TTL: `${TTL_MS / 1000}s`,
      BOT_INSTANCE_NAME: name,
      BOT_HTTP_PORT: String(ports[name]),
      TELEGRAM_API_ROOT: proxies[name].apiRoot,
    });
    return children[name];
  }

  async function health(name: Name): Promise<Health> {
    const res = await fetch(`http://127.0.0.1:${ports[name]}/healthz`, {
      signal: AbortSignal.timeout(2_000),
    });
    return { status: res.status, body: (await res.json()) as Health["body"] };
  }

  async function metrics(name: Name): Promise<string> {
    return (
      await fetch(`http://127.0.0.1:${ports[name]}/metrics`, { signal: AbortSignal.timeout(2_000) })
    ).text();
  }

  const roleOf = async (name: Name) => (await health(name).catch(() => null))?.body.role;

  /** Which process sent the message `messageId` in `chatId`. */
  function senderOf(chatId: number, messageId: number): Name | null {
    for (const name of ["a", "b"] as const) {
      if (
        proxies[name].calls.some(
          (c) => c.method === "sendMessage" && c.chatId === chatId && c.messageId === messageId,
        )
      )
        return name;
    }
    return null;
  }

  it("one leads and the other stands by: /healthz, /metrics and /debug say which, and the standby calls nothing", async () => {
    await startInstance("a").started;
    await waitUntil("a's first SIEM poll", () => children.a.output().includes("first SIEM poll"), 15_000, {
      pollMs: 50,
    });
    await startInstance("b").started;
    await waitUntil("a healthy", async () => (await health("a")).status === 200, 10_000, { pollMs: 100 });
    const [a, b] = [await health("a"), await health("b")];
    expect(a.body).toMatchObject({ ok: true, role: "leader", instance: "a", lease: { epoch: 1 } });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ ok: true, role: "standby", instance: "b", reasons: [] });

    await sleep(TTL_MS / 3 + 200); // a renewal or two
    const [ma, mb] = [await metrics("a"), await metrics("b")];
    expect(sample(ma, "mpsiem_telegram_leader")).toBe(1);
    expect(sample(mb, "mpsiem_telegram_leader")).toBe(0);
    expect(sample(ma, "mpsiem_telegram_takeovers_total")).toBe(1);
    expect(sample(mb, "mpsiem_telegram_takeovers_total")).toBe(0);
    expect(sample(ma, "mpsiem_telegram_lease_renewals_total")).toBeGreaterThan(0);
    expect(sample(mb, "mpsiem_telegram_lease_renewals_total")).toBe(0);

    // /debug, answered by the leader, lists both instances with their roles and heartbeats.
    world.fake.sendText(ADMIN, ADMIN.id, "/debug");
    await waitUntil(
      "the /debug answer",
      () => world.fake.messages(ADMIN.id).some((m) => m.plainText.includes("instance b:")),
      10_000,
      { pollMs: 100 },
    );
    const debug = world.fake.messages(ADMIN.id).find((m) => m.plainText.includes("instance b:"))!;
    expect(debug.plainText).toContain("this instance: a, leader (epoch 1)");
    expect(debug.plainText).toMatch(/instance a: leader, last heartbeat \d/);
    expect(debug.plainText).toMatch(/instance b: standby, last heartbeat \d/);
    expect(senderOf(ADMIN.id, debug.messageId)).toBe("a");
    // Long polling is the leader's alone (Telegram allows one poller); the standby sends nothing either.
    expect(proxies.a.calls.some((c) => c.method === "getUpdates")).toBe(true);
    expect(proxies.b.calls).toEqual([]);
  });

  it("after SIGKILL of the leader mid-burst, the standby leads within the TTL and a poll; nothing lost, at most one repeat per chat", async () => {
    const burst = world.emu.state.addBurst(5).map((i) => i.key);
    const stream: string[] = [];
    const streaming = (async () => {
      for (let i = 0; i < 4; i++) {
        await sleep(600);
        stream.push(...world.emu.state.addBurst(1).map((x) => x.key));
      }
    })();
    // SIGKILL inside the fake's handler of a's second burst message to the private chat: its answer
    // (the message id) never reaches a.
    let killedAt = 0;
    await new Promise<void>((done) => {
      const shown = () =>
        world.fake.messages(PRIVATE_CHAT).filter((m) => keysIn(m).some((k) => burst.includes(k))).length;
      const unsubscribe = world.fake.onMessage((event) => {
        if (event.kind !== "sent" || event.message.chatId !== PRIVATE_CHAT || shown() < 2) return;
        unsubscribe();
        children.a.child.kill("SIGKILL");
        killedAt = Date.now();
        done();
      });
    });
    expect((await children.a.exited).signal).toBe("SIGKILL");
    const tookMs = await waitUntil(
      "b leads",
      async () => (await roleOf("b")) === "leader",
      TTL_MS + POLL_MS,
      {
        pollMs: 50,
      },
    );
    expect(tookMs).toBeLessThanOrEqual(TTL_MS + POLL_MS);
    if (process.env.INTEGRATION_FIGURES) console.info(`SIGKILL → the standby leads in ${tookMs} ms`);
    await streaming;
    const keys = [...burst, ...stream];
    allKeys.push(...keys);
    await waitForKeys(world, CHATS, keys, 40_000);
    await sleep(2_000); // a resent row would show by now

    for (const chatId of CHATS) {
      const tally = world.tally(chatId, keys);
      expect(tally.missing, `chat ${chatId}: lost`).toEqual([]);
      expect(tally.unexpected, `chat ${chatId}: unexpected`).toEqual([]);
      const repeats = world.repeatedMessages(chatId);
      expect(repeats.length, `chat ${chatId}: repeated`).toBeLessThanOrEqual(1);
      // The chaos verdict's rule: a repeat is of the last message the killed process sent to that chat.
      const aLast = proxies.a
        .posts(["sendMessage"])
        .filter((c) => c.chatId === chatId && c.at <= killedAt)
        .at(-1);
      for (const repeat of repeats) {
        const earlier = world.fake
          .messages(chatId)
          .find((m) => m.messageId < repeat.messageId && keysIn(m).some((k) => keysIn(repeat).includes(k)))!;
        expect(senderOf(chatId, earlier.messageId)).toBe("a");
        expect(earlier.messageId).toBe(aLast?.messageId);
        expect(senderOf(chatId, repeat.messageId)).toBe("b");
      }
    }
    // b sent nothing before the kill; the admins heard who took over.
    expect(proxies.b.posts().filter((c) => c.chatId !== ADMIN.id && c.at < killedAt)).toEqual([]);
    expect(
      world.fake.messages(ADMIN.id).some((m) => m.plainText.includes("Instance b took over from a")),
    ).toBe(true);
    expect(world.fake.stats().duringRetryAfter).toBe(0);
  });

  it("restarted, the old leader stands by", async () => {
    await startInstance("a").started;
    await waitUntil("a reports", async () => (await roleOf("a")) !== undefined, 5_000, { pollMs: 50 });
    const a = await health("a");
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ ok: true, role: "standby", instance: "a" });
    expect((await health("b")).body.role).toBe("leader");
    expect(sample(await metrics("a"), "mpsiem_telegram_leader")).toBe(0);
  });

  it("a leader cut off from PostgreSQL (its lease connection terminated) stops sending before the other starts", async () => {
    // More chats, so that some send is always due within a fraction of a second (one chat gets ~1/s).
    const extra = [7001, 7002, 7003, 7004];
    for (const id of extra) world.fake.addChat({ id, type: "private", first_name: `Analyst ${id}` });
    await world.allowInStore(extra);
    const sentBefore = proxies.b.posts().length;
    const burst = world.emu.state.addBurst(4).map((i) => i.key);
    allKeys.push(...burst);
    await waitUntil(
      "b sends the burst",
      () =>
        proxies.b
          .posts(["sendMessage"])
          .slice(sentBefore)
          .filter((c) => c.chatId === PRIVATE_CHAT).length >= 1,
      15_000,
      { pollMs: 10 },
    );
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    let cutAt: number;
    try {
      const { rows } = await admin.query<{ holder: string; backend_pid: string }>(
        "SELECT holder, backend_pid FROM leader_lease WHERE name = 'leader'",
      );
      expect(rows[0]?.holder).toBe("b");
      cutAt = Date.now();
      await admin.query("SELECT pg_terminate_backend($1)", [Number(rows[0]!.backend_pid)]);
    } finally {
      await admin.end();
    }
    await waitUntil("a leads", async () => (await roleOf("a")) === "leader", TTL_MS + POLL_MS, {
      pollMs: 50,
    });
    // b was cut off mid-burst: it had not sent all of it.
    const bSent = proxies.b
      .posts(["sendMessage"])
      .slice(sentBefore)
      .filter((c) => c.chatId === PRIVATE_CHAT);
    expect(bSent.length).toBeLessThan(burst.length);
    await waitForKeys(world, [...CHATS, ...extra], burst, 30_000);
    await sleep(1_500);

    const bLast = Math.max(...proxies.b.posts().map((c) => c.at));
    const aFirst = Math.min(
      ...proxies.a
        .posts()
        .filter((c) => c.at > cutAt)
        .map((c) => c.at),
    );
    expect(Number.isFinite(aFirst), "a sent after taking over").toBe(true);
    expect(bLast, "b's last call to Telegram comes before a's first").toBeLessThan(aFirst);
    if (process.env.INTEGRATION_FIGURES) {
      console.info(
        `lease connection terminated: b's last call ${bLast - cutAt} ms after, a's first ${aFirst - cutAt} ms after; ` +
          `repeats ${CHATS.map((c) => world.repeatedMessages(c).length).join("/")}`,
      );
    }
    expect((await health("b")).body.role).toBe("standby");
    for (const chatId of CHATS) {
      const tally = world.tally(chatId, allKeys);
      expect(tally.missing, `chat ${chatId}: lost`).toEqual([]);
      // One takeover each: at most one message per chat per takeover shows again.
      expect(world.repeatedMessages(chatId).length, `chat ${chatId}: repeated`).toBeLessThanOrEqual(2);
    }
    for (const chatId of extra) {
      expect(world.tally(chatId, burst).missing, `chat ${chatId}: lost`).toEqual([]);
      expect(world.repeatedMessages(chatId).length, `chat ${chatId}: repeated`).toBeLessThanOrEqual(1);
    }
    expect(world.fake.stats().duringRetryAfter).toBe(0);

    // Both stop cleanly.
    for (const name of ["a", "b"] as const) children[name].child.kill("SIGTERM");
    expect((await children.a.exited).code).toBe(0);
    expect((await children.b.exited).code).toBe(0);
  });
});
