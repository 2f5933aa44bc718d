// A hostile member of an allowed group floods the bot with commands, in the group and in private,
// while incidents arrive. The whole service runs in this process against the emulator and the fake
// Bot API (which enforces Telegram's limits). The flood must stay contained: a handful of replies at
// most (the per-person command limit), nothing changed by the admin commands among it, and the
// incidents still reach every chat — the flood does not eat the group's 20-messages-a-minute budget.
// (Forged button presses, non-admins and banned chats: test/telegram/.)

import { afterEach, describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { type InProcessWorld, startInProcessWorld, until } from "../chaos/in-process.js";

const ADMIN = 9301;
const ALICE: FakeUser = { id: 4747, first_name: "Alice" };
const MALLORY: FakeUser = { id: 6666, username: "mallory", first_name: "Mallory" };
const GROUP = -1_004_747_001;
const FLOOD = ["/ping", "/debug", "/accepted", "/start", "/id", "/accept -100777", "/ban 4747", "/help"];

let world: InProcessWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("a command flood from one person", () => {
  it("gets a few replies at most, changes nothing, and does not hold back anybody's incidents", async () => {
    const w = await startInProcessWorld({
      adminId: ADMIN,
      chats: [
        { id: ALICE.id, type: "private", first_name: ALICE.first_name, allowed: true },
        { id: GROUP, type: "supergroup", title: "SOC duty", allowed: true },
        { id: MALLORY.id, type: "private", first_name: MALLORY.first_name, username: MALLORY.username },
      ],
    });
    world = w;
    const service = await w.start();
    await until("the admin hears the bot is up", () => w.fake.messages(ADMIN).length > 0);
    const adminBefore = w.fake.messages(ADMIN).length;

    for (let i = 0; i < 300; i++) {
      w.fake.sendText(MALLORY, i % 2 === 0 ? GROUP : MALLORY.id, FLOOD[i % FLOOD.length]!);
    }
    const incidents = [1, 2, 3, 4, 5].map(() => w.emu.state.addIncident());
    const shows = (chatId: number) =>
      incidents.every((i) => w.fake.messages(chatId).some((m) => m.text.includes(i.id)));
    await until("every incident reaches Alice and the group", () => shows(ALICE.id) && shows(GROUP), 20_000);
    // Every command of the flood has been handled (answered, refused or dropped by the limit) by now.
    const { metrics } = service.parts;
    await until("the whole flood is handled", async () => (await metrics.total(metrics.actions)) >= 300);
    await service.parts.delivery.idle({ timeoutMs: 10_000 });

    const isIncident = (text: string) => text.includes("/incidents/view/");
    const repliesToMallory = [
      ...w.fake.messages(GROUP).filter((m) => !isIncident(m.text)),
      ...w.fake.messages(MALLORY.id),
    ];
    // The per-person budget (10 commands per 10 s) plus its one warning.
    expect(repliesToMallory.length).toBeGreaterThan(0);
    expect(repliesToMallory.length).toBeLessThanOrEqual(11);
    // The group got each incident as its own message: no backlog built up behind the flood.
    expect(w.fake.messages(GROUP).filter((m) => isIncident(m.text))).toHaveLength(incidents.length);

    // Her admin commands changed nothing; her /start asked the admins once at most.
    const { store } = service.parts;
    expect(await store.chats.get(-100777)).toBeUndefined();
    expect((await store.chats.get(ALICE.id))?.state).toBe("allowed");
    expect((await store.chats.recipients()).map((c) => c.id).sort()).toEqual([GROUP, ALICE.id].sort());
    expect(w.fake.messages(ADMIN).length - adminBefore).toBeLessThanOrEqual(1);
    expect(w.fake.stats().duringRetryAfter).toBe(0);
  });
});
