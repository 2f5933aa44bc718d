// The bot removed from a group, blocked by a user, added back, and groups that became supergroups.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("en");
let h: TelegramHarness;
let admin: FakeUser;
let serial = 0;

beforeAll(async () => {
  h = await startTelegramHarness({ locale: "en", commandRateLimit: { limit: 1000, windowMs: 1000 } });
  admin = h.admins[0]!;
});
afterAll(async () => {
  await h?.close();
});

async function allowGroup(id: number, title: string, type: "group" | "supergroup" = "group") {
  h.fake.addChat({ id, type, title });
  await h.say(admin, admin.id, `/accept ${id}`);
  expect((await h.store.chats.get(id))?.state).toBe("allowed");
}
async function queueIncident(): Promise<string> {
  serial++;
  const id = `00000000-0000-4000-9000-${String(serial).padStart(12, "0")}`;
  await h.store.incidents.ingest(
    [
      {
        id,
        key: `INC-${serial}`,
        name: "n",
        category: "c",
        type: "t",
        status: "New",
        severity: "Low",
        created: new Date(),
        isConfirmed: false,
      },
    ],
    null,
  );
  return id;
}
const noticesAbout = (needle: string) => h.textsIn(admin.id).filter((m) => m.includes(needle));

describe("membership", () => {
  it("removed from a group (left): stops receiving, pending rows cancelled, admins told once, shown inactive", async () => {
    const group = -4001;
    await allowGroup(group, "Removed group");
    await queueIncident();
    expect((await h.store.outbox.pendingForChat(group)).length).toBe(1);

    h.fake.setMembership(group, "left");
    await h.fake.waitFor(() => noticesAbout("Removed group").some((m) => m.includes("removed")), 5000);
    expect(await h.store.chats.get(group)).toMatchObject({
      state: "allowed",
      active: 0,
      inactive_reason: "left",
    });
    expect((await h.store.chats.recipients()).map((c) => c.id)).not.toContain(group);
    expect((await h.store.outbox.pendingForChat(group)).length).toBe(0);

    // A second removal update tells nobody again.
    h.fake.setMembership(group, "kicked");
    const removedAudits = async () =>
      (await h.audit()).filter((e) => e.action === "chat.removed" && e.chat_id === group).length;
    await h.until(async () => (await removedAudits()) >= 2);
    expect(await removedAudits()).toBe(2);
    expect(noticesAbout("Removed group").filter((m) => m.includes("removed"))).toHaveLength(1);
    expect(
      h.fake.messages(h.admins[1]!.id).filter((m) => m.plainText.includes("Removed group")),
    ).toHaveLength(1);

    await h.say(admin, admin.id, "/accepted");
    expect(h.textsIn(admin.id).at(-1)).toMatch(/“Removed group”, id -4001, since .* — inactive/);

    // Added back: it was allowed, so it receives again without a new request.
    h.fake.setMembership(group, "member");
    await h.fake.waitFor(() => h.textsIn(group).includes(tx.chats.alreadySubscribed), 5000);
    expect(await h.store.chats.get(group)).toMatchObject({ state: "allowed", active: 1 });
    expect(noticesAbout("id -4001").filter((m) => m.includes("asks for incidents"))).toHaveLength(0);
  });

  it("blocked by a private user (kicked): stops receiving and admins are told", async () => {
    const user: FakeUser = { id: 70_001, first_name: "Blocker", username: "blocker" };
    h.fake.addChat({ id: user.id, type: "private", first_name: user.first_name, username: user.username });
    await h.say(admin, admin.id, `/accept ${user.id}`);
    h.fake.setMembership(user.id, "kicked");
    await h.fake.waitFor(
      () => noticesAbout("@blocker").some((m) => m.includes("removed from or blocked")),
      5000,
    );
    expect(await h.store.chats.get(user.id)).toMatchObject({ active: 0, inactive_reason: "kicked" });
    // Unblocking brings an allowed user back.
    h.fake.setMembership(user.id, "member");
    await h.until(async () => (await h.store.chats.get(user.id))?.active === 1);
  });

  it("a group that became a supergroup moves to the new id with its state and its undelivered rows; admins told", async () => {
    const oldId = -4002;
    const newId = -1_004_002;
    await allowGroup(oldId, "Migrating group");
    const incident = await queueIncident();
    h.fake.migrateChat(oldId, newId);
    await h.fake.waitFor(() => noticesAbout(`${oldId} → ${newId}`).length > 0, 5000);
    expect(await h.store.chats.get(oldId)).toBeUndefined();
    expect(await h.store.chats.get(newId)).toMatchObject({
      state: "allowed",
      kind: "supergroup",
      title: "Migrating group",
    });
    expect((await h.store.outbox.pendingForChat(newId)).map((r) => r.incidentId)).toEqual([incident]);
    expect((await h.audit()).some((e) => e.action === "chat.migrate" && e.chat_id === newId)).toBe(true);
    // Both service messages arrived; the admins were told once.
    await h.say(admin, admin.id, "/id");
    expect(noticesAbout(`${oldId} → ${newId}`)).toHaveLength(1);
  });

  it("a banned group keeps its ban when it migrates (migration is handled before the ban drops updates)", async () => {
    const oldId = -4003;
    const newId = -1_004_003;
    h.fake.addChat({ id: oldId, type: "group", title: "Banned group" });
    await h.say(admin, admin.id, `/ban ${oldId}`);
    h.fake.migrateChat(oldId, newId);
    await h.until(async () => (await h.store.chats.get(newId)) !== undefined);
    expect(await h.store.chats.get(newId)).toMatchObject({ state: "banned" });
    expect(await h.store.chats.get(oldId)).toBeUndefined();
  });
});
