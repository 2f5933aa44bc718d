// The one path for a chat that is removed, paused or moved: what happens to its record and its
// undelivered incidents, and that the admins hear once however many reports of it come in.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChatLifecycleDeps, migrateChat, pauseChat, removeChat } from "../../src/chats/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { tempDir } from "../helpers/tmp.js";

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let notices: string[];
let deps: ChatLifecycleDeps;
const GROUP = -1001;
const PERSON = 42;

beforeEach(async () => {
  tmp = tempDir();
  store = await openStore(join(tmp.dir, "bot.db"));
  notices = [];
  deps = {
    store,
    locale: "en",
    notifyAdmins: async (text) => {
      notices.push(text);
    },
  };
  await store.chats.remember({ id: GROUP, kind: "group", title: "SOC" });
  await store.chats.remember({ id: PERSON, kind: "private", firstName: "Alice" });
  for (const id of [GROUP, PERSON]) await store.chats.setState(id, "allowed", 1);
  await store.incidents.ingest([incidentSummary(1), incidentSummary(2)], null);
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

describe("removeChat", () => {
  it("stops the chat, drops its undelivered incidents and tells the admins once, in the source's words", async () => {
    const first = await removeChat(deps, PERSON, "Forbidden: bot was blocked by the user", "refused");
    expect(first).toMatchObject({ cancelled: 2, told: true, before: { active: 1 } });
    expect(await store.chats.get(PERSON)).toMatchObject({
      state: "allowed",
      active: 0,
      inactive_reason: "Forbidden: bot was blocked by the user",
    });
    expect(notices).toEqual([expect.stringContaining("stopped accepting messages")]);
    expect(notices[0]).toContain("bot was blocked");

    const second = await removeChat(deps, PERSON, "kicked", "membership");
    expect(second.told).toBe(false);
    expect(notices).toHaveLength(1);

    await removeChat(deps, GROUP, "left", "membership");
    expect(notices[1]).toContain("removed");
    expect(await store.outbox.totals()).toEqual({ cancelled: 4 });
  });

  it("tells nobody about a chat that was not receiving, or that the bot never knew", async () => {
    await store.chats.setState(GROUP, "denied", 1);
    expect((await removeChat(deps, GROUP, "left", "membership")).told).toBe(false);
    expect((await removeChat(deps, 999, "left", "membership")).before).toBeUndefined();
    expect(notices).toEqual([]);
  });

  it("tells the admins once when the bot's update and a failed send report the removal together", async () => {
    await Promise.all([
      removeChat(deps, GROUP, "kicked", "membership"),
      removeChat(deps, GROUP, "Forbidden: bot was kicked from the group chat", "refused"),
      removeChat(deps, GROUP, "kicked", "membership"),
    ]);
    expect(notices).toHaveLength(1);
  });

  it("keeps the change when a notice cannot be sent", async () => {
    const failures: unknown[] = [];
    const failing: ChatLifecycleDeps = {
      ...deps,
      notifyAdmins: async () => {
        throw new Error("Telegram is down");
      },
      onNoticeError: (e) => failures.push(e),
    };
    expect((await removeChat(failing, PERSON, "kicked", "membership")).told).toBe(false);
    expect((await store.chats.get(PERSON))?.active).toBe(0);
    expect(failures).toHaveLength(1);
  });
});

describe("pauseChat", () => {
  it("stops the chat with Telegram's reason, keeps its undelivered incidents, and tells the admins once", async () => {
    const reason = "Bad Request: not enough rights to send text messages to the chat";
    expect(await pauseChat(deps, GROUP, reason)).toMatchObject({ told: true });
    expect(await pauseChat(deps, GROUP, reason)).toMatchObject({ told: false });
    expect(await store.chats.get(GROUP)).toMatchObject({ active: 0, inactive_reason: reason });
    expect(await store.outbox.totals()).toEqual({ pending: 4 });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("/accept -1001");

    // /accept: receiving again, and the kept incidents are due
    await store.chats.setState(GROUP, "allowed", 1);
    expect((await store.outbox.pendingForChat(GROUP)).length).toBe(2);
  });
});

describe("migrateChat", () => {
  it("moves the record and its undelivered incidents, and tells the admins once", async () => {
    const moved = await migrateChat(deps, GROUP, -1009001);
    expect(moved).toMatchObject({ moved: true, told: true, chat: { id: -1009001, state: "allowed" } });
    expect(await store.chats.get(GROUP)).toBeUndefined();
    expect((await store.outbox.pendingForChat(-1009001)).length).toBe(2);
    // the other service message of the pair, or a failed send, finds nothing left to move
    expect(await migrateChat(deps, GROUP, -1009001)).toMatchObject({ moved: false, told: false });
    expect(notices).toEqual([expect.stringContaining("-1009001")]);
  });

  it("moves a banned group's ban without telling anyone", async () => {
    await store.chats.setState(GROUP, "banned", 1);
    expect(await migrateChat(deps, GROUP, -1009002)).toMatchObject({ moved: true, told: false });
    expect((await store.chats.get(-1009002))?.state).toBe("banned");
    expect(notices).toEqual([]);
  });
});

describe("recording a change", () => {
  it("records it before the admins hear of it, and only when it was made", async () => {
    const order: string[] = [];
    const recording: ChatLifecycleDeps = {
      ...deps,
      notifyAdmins: async () => {
        order.push("notice");
      },
    };
    await migrateChat(recording, GROUP, -1009003, {
      record: async ({ chat }) => {
        order.push(`moved to ${chat?.id}`);
      },
    });
    await migrateChat(recording, GROUP, -1009003, {
      record: async () => {
        order.push("moved again");
      },
    });
    await removeChat(recording, PERSON, "kicked", "membership", {
      record: async ({ cancelled }) => {
        order.push(`removed, ${cancelled} cancelled`);
      },
    });
    expect(order).toEqual(["moved to -1009003", "notice", "removed, 2 cancelled", "notice"]);
  });
});
