// Bugs the chaos runs found, each reproduced on its own with the whole service in this process.
import { afterEach, describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { type InProcessWorld, startInProcessWorld, until } from "./in-process.js";

const ADMIN: FakeUser = { id: 9201, first_name: "Ada" };
const ALICE: FakeUser = { id: 4646, first_name: "Alice" };
const GROUP = -4_646_001;
const SUPERGROUP = -1_004_646_001;

let world: InProcessWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

function startWorld(opts: { withGroup: boolean }): Promise<InProcessWorld> {
  return startInProcessWorld({
    adminId: ADMIN.id,
    chats: [
      { id: ALICE.id, type: "private", first_name: ALICE.first_name, allowed: true },
      ...(opts.withGroup ? [{ id: GROUP, type: "group" as const, title: "SOC", allowed: true }] : []),
    ],
  });
}

describe("found by the chaos runs", () => {
  it("a retry_after outlives a restart: the next process does not write to the chat before it ends", async () => {
    const w = await startWorld({ withGroup: false });
    world = w;
    const first = await w.start();
    // The start-up notice to the admin goes first, so the injected 429 hits the incident.
    await until("the admin hears the bot is up", () => w.fake.messages(ADMIN.id).length > 0);
    w.fake.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 4",
      retryAfter: 4,
    });
    const incident = w.emu.state.addIncident();
    await until("the 429 for Alice", () =>
      w.fake.calls.some((c) => c.method === "sendMessage" && c.params.chat_id === ALICE.id),
    );
    await first.stop();

    await w.start();
    await until(
      "the incident reaches Alice after the ban",
      () => w.fake.messages(ALICE.id).some((m) => m.text.includes(incident.id)),
      20_000,
    );
    expect(w.fake.stats().duringRetryAfter).toBe(0);
    const sendsToAlice = w.fake.calls.filter(
      (c) => c.method === "sendMessage" && c.params.chat_id === ALICE.id,
    );
    expect(sendsToAlice).toHaveLength(2);
    expect(sendsToAlice[0]!.response).toMatchObject({ error_code: 429 });
    expect(sendsToAlice[1]!.at - sendsToAlice[0]!.at).toBeGreaterThanOrEqual(4_000);
  });

  it("after a group became a supergroup, a change to an incident shown in the old group edits no message of the new one", async () => {
    const w = await startWorld({ withGroup: true });
    world = w;
    const service = await w.start();
    const shows = (chatId: number, id: string) => w.fake.messages(chatId).some((m) => m.text.includes(id));
    const old = [w.emu.state.addIncident(), w.emu.state.addIncident()];
    await until("both reach the group", () => old.every((i) => shows(GROUP, i.id)));

    w.fake.migrateChat(GROUP, SUPERGROUP);
    await until(
      "the move is recorded",
      async () => (await service.parts.store.chats.get(SUPERGROUP)) !== undefined,
    );
    const fresh = [w.emu.state.addIncident(), w.emu.state.addIncident()];
    await until("the new ones reach the supergroup", () => fresh.every((i) => shows(SUPERGROUP, i.id)));

    // Changed in the SIEM: the bot cannot edit the old group's messages any more, and must not edit
    // the supergroup's messages that happen to carry the same message ids.
    for (const incident of old) w.emu.state.setStatus(incident.id, "Closed");
    const closed = t("en").incident.status("Closed");
    await until("the change is read", async () =>
      (await Promise.all(old.map((i) => service.parts.store.incidents.get(i.id)))).every(
        (i) => i?.status === "Closed",
      ),
    );
    await service.parts.delivery.idle({ timeoutMs: 10_000 });
    for (const incident of fresh) {
      const [message] = w.fake.messages(SUPERGROUP).filter((m) => m.text.includes(incident.id));
      expect(message?.plainText).toContain(incident.key);
      expect(message?.plainText).not.toContain(closed);
    }
    for (const incident of old) {
      expect(w.fake.messages(SUPERGROUP).some((m) => m.text.includes(incident.id))).toBe(false);
    }
  });
});
