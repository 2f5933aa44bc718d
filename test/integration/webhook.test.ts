// Webhook mode with two real service processes on one PostgreSQL database. The fake Bot API posts every
// update to TELEGRAM_WEBHOOK_URL, which here is a relay in this process that passes each post on to BOTH
// instances (as a retry landing on another instance would): each update is still handled once. The
// leader registers the webhook with the secret; a post with a wrong secret gets 401; an update posted to
// the standby alone is handled by it.
import { createServer, type Server } from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCallbackData } from "../../src/render/callback-data.js";
import { type BotApiProxy, startBotApiProxy } from "../helpers/botapi-proxy.js";
import { createPostgresDatabase, type TestPostgresDatabase } from "../helpers/postgres.js";
import {
  ADMIN,
  ALICE,
  type ChildService,
  ensureBuilt,
  freePort,
  PRIVATE_CHAT,
  sleep,
  startWorld,
  type World,
  waitUntil,
} from "./harness.js";

const SECRET = "webhook-Secret_42";
const PATH = "/tg/hook";
type Name = "a" | "b";

function sample(text: string, name: string, labels: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("webhook mode with two instances", () => {
  let database: TestPostgresDatabase;
  let world: World;
  let relay: Server;
  let relayUrl: string;
  const proxies = {} as Record<Name, BotApiProxy>;
  const hookPorts = {} as Record<Name, number>;
  const httpPorts = {} as Record<Name, number>;
  const children = {} as Record<Name, ChildService>;
  /** What each instance answered to each relayed post: update_id → status per instance. */
  const answers = new Map<number, Partial<Record<Name, number>>>();

  const post = (name: Name, body: string, secret: string | null) =>
    fetch(`http://127.0.0.1:${hookPorts[name]}${PATH}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(secret ? { "x-telegram-bot-api-secret-token": secret } : {}),
      },
      body,
      signal: AbortSignal.timeout(15_000),
    });

  beforeAll(async () => {
    await ensureBuilt();
    database = await createPostgresDatabase();
    world = await startWorld({ dbUrl: database.url });
    await world.allowInStore();
    for (const name of ["a", "b"] as const) {
      proxies[name] = await startBotApiProxy(world.fake.apiRoot);
      hookPorts[name] = await freePort();
      httpPorts[name] = await freePort();
    }
    relay = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const secret = String(req.headers["x-telegram-bot-api-secret-token"] ?? "");
        const id = (JSON.parse(body) as { update_id: number }).update_id;
        const statuses = await Promise.all(
          (["a", "b"] as const).map((name) =>
            post(name, body, secret).then(
              (r) => r.status,
              () => 0,
            ),
          ),
        );
        answers.set(id, { a: statuses[0], b: statuses[1] });
        res.writeHead(statuses.some((s) => s >= 200 && s < 300) ? 200 : 500).end();
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const address = relay.address();
    relayUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}${PATH}`;
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
    await Promise.all(Object.values(proxies).map((p) => p.close()));
    await database?.drop();
  });

  function startInstance(name: Name): ChildService {
    children[name] = world.startChild({
      BOT_LEASE_TTL: "3s",
      BOT_INSTANCE_NAME: name,
      BOT_HTTP_PORT: String(httpPorts[name]),
      TELEGRAM_API_ROOT: proxies[name].apiRoot,
      TELEGRAM_WEBHOOK_URL: relayUrl,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_WEBHOOK_PORT: String(hookPorts[name]),
    });
    return children[name];
  }

  async function metrics(name: Name): Promise<string> {
    return (await fetch(`http://127.0.0.1:${httpPorts[name]}/metrics`)).text();
  }

  it("the leader sets the webhook with the secret; nobody polls", async () => {
    await startInstance("a").started;
    await startInstance("b").started;
    await waitUntil("the webhook is set", () => world.fake.webhookInfo() !== null, 10_000, { pollMs: 50 });
    expect(world.fake.webhookInfo()).toEqual({ url: relayUrl, secret: SECRET });
    const setBy = (name: Name) => proxies[name].calls.filter((c) => c.method === "setWebhook");
    expect(setBy("a")).toHaveLength(1);
    expect(setBy("b")).toEqual([]);
    const health = (await (await fetch(`http://127.0.0.1:${httpPorts.b}/healthz`)).json()) as {
      role: string;
      telegram: { mode: string };
    };
    expect(health).toMatchObject({ role: "standby", telegram: { mode: "webhook" } });
    expect([...proxies.a.calls, ...proxies.b.calls].filter((c) => c.method === "getUpdates")).toEqual([]);
  });

  it("a command and a button press posted to both instances are each handled once", async () => {
    const repliesBefore = world.fake.messages(ADMIN.id).length;
    const commandUpdate = world.fake.sendText(ADMIN, ADMIN.id, "/id");
    await waitUntil("the /id answer", () => world.fake.messages(ADMIN.id).length > repliesBefore, 10_000, {
      pollMs: 50,
    });
    // Both instances got the post and answered 200; one of them handled it.
    await waitUntil(
      "both answered",
      () => Object.keys(answers.get(commandUpdate) ?? {}).length === 2,
      5_000,
      {
        pollMs: 20,
      },
    );
    expect(answers.get(commandUpdate)).toEqual({ a: 200, b: 200 });

    // An incident card in Alice's chat, and her press on Refresh.
    world.emu.state.addBurst(1);
    await waitUntil("the card", () => world.incidentMessages(PRIVATE_CHAT).length === 1, 15_000, {
      pollMs: 50,
    });
    const card = world.incidentMessages(PRIVATE_CHAT)[0]!;
    const buttons = (
      card.replyMarkup as { inline_keyboard: Array<Array<{ callback_data: string }>> }
    ).inline_keyboard
      .flat()
      .map((b) => b.callback_data);
    const refresh = buttons.find((data) => {
      const decoded = decodeCallbackData(data);
      return decoded?.kind === "incident" && decoded.action === "refresh";
    })!;
    const pressId = world.fake.pressButton(ALICE, PRIVATE_CHAT, card.messageId, refresh);
    await waitUntil("the press is answered", () => world.fake.answeredCallbacks().has(pressId), 10_000, {
      pollMs: 50,
    });
    await sleep(1_000); // a second handling would have answered by now

    const replies = world.fake
      .messages(ADMIN.id)
      .slice(repliesBefore)
      .filter((m) => m.plainText.includes(String(ADMIN.id)));
    expect(replies).toHaveLength(1);
    const answerCalls = [...proxies.a.calls, ...proxies.b.calls].filter(
      (c) => c.method === "answerCallbackQuery",
    );
    expect(answerCalls).toHaveLength(1);

    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ update_id: string; claimed_by: string; handled: boolean }>(
        "SELECT update_id, claimed_by, handled_at IS NOT NULL AS handled FROM telegram_updates ORDER BY update_id",
      );
      expect(rows.every((r) => r.handled)).toBe(true);
      expect(rows.map((r) => Number(r.update_id))).toContain(commandUpdate);
    } finally {
      await admin.end();
    }
    // Each update: handled once in all, dropped once as a duplicate by the other instance.
    const [ma, mb] = [await metrics("a"), await metrics("b")];
    const handled =
      sample(ma, "mpsiem_telegram_updates_total", 'result="handled"') +
      sample(mb, "mpsiem_telegram_updates_total", 'result="handled"');
    const duplicates =
      sample(ma, "mpsiem_telegram_updates_total", 'result="duplicate"') +
      sample(mb, "mpsiem_telegram_updates_total", 'result="duplicate"');
    expect(handled).toBe(2);
    expect(duplicates).toBe(2);
  });

  it("handles an update posted to the standby alone; refuses a wrong secret with 401, and bodies too large or of unknown length", async () => {
    const update = {
      update_id: 900_001,
      message: {
        message_id: 9_001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: ADMIN.id, type: "private", first_name: ADMIN.first_name },
        from: { id: ADMIN.id, is_bot: false, first_name: ADMIN.first_name },
        text: "/id",
        entities: [{ type: "bot_command", offset: 0, length: 3 }],
      },
    };
    const body = JSON.stringify(update);
    expect((await post("b", body, "wrong-secret")).status).toBe(401);
    expect((await post("a", body, null)).status).toBe(401);
    // Bounded before it is read: too large (413), or of unknown length (411); elsewhere nothing (404).
    expect((await post("a", "x".repeat(2 * 1024 * 1024), SECRET)).status).toBe(413);
    const chunked = await fetch(`http://127.0.0.1:${hookPorts.a}${PATH}`, {
      method: "POST",
      headers: { "x-telegram-bot-api-secret-token": SECRET },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(body));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(411);
    expect((await fetch(`http://127.0.0.1:${hookPorts.a}/elsewhere`, { method: "POST", body })).status).toBe(
      404,
    );
    const sentSince = (t: number) =>
      [...proxies.a.posts(["sendMessage"]), ...proxies.b.posts(["sendMessage"])].filter(
        (c) => c.chatId === ADMIN.id && c.at >= t,
      );
    const t0 = Date.now();
    expect((await post("b", body, SECRET)).status).toBe(200);
    await waitUntil("the answer", () => sentSince(t0).length > 0, 5_000, { pollMs: 20 });
    expect(proxies.b.posts(["sendMessage"]).filter((c) => c.at >= t0)).toHaveLength(1);
    // The same update again (Telegram's retry), to either: not handled again.
    expect((await post("a", body, SECRET)).status).toBe(200);
    expect((await post("b", body, SECRET)).status).toBe(200);
    await sleep(500);
    expect(sentSince(t0)).toHaveLength(1);

    for (const name of ["a", "b"] as const) children[name].child.kill("SIGTERM");
    expect((await children.a.exited).code).toBe(0);
    expect((await children.b.exited).code).toBe(0);
  });
});
