import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { isServed, mayActOnIncidents, resolveAccess } from "../../src/telegram/access.js";
import { tempDir } from "../helpers/tmp.js";

const ADMINS = [1, 2];
const GROUP = -100500;

describe("resolveAccess", () => {
  let store: Store;
  let cleanup: () => void;

  beforeEach(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    store = await openStore(`${tmp.dir}/bot.db`);
    await store.chats.ensure(GROUP, "allowed", 1);
    await store.chats.ensure(10, "allowed", 1); // a person allowed personally
    await store.chats.ensure(20, "banned", 1); // a banned person
    await store.chats.ensure(30, "pending", null);
    await store.chats.ensure(-100600, "banned", 1); // a banned group
  });
  afterEach(async () => {
    await store.close();
    cleanup();
  });

  const role = async (userId: number | null, chatId: number | null) =>
    (await resolveAccess(store, ADMINS, userId, chatId)).role;

  it("gives each kind of sender its role", async () => {
    expect(await role(1, 1)).toBe("admin");
    expect(await role(2, GROUP)).toBe("admin");
    expect(await role(10, 10)).toBe("allowed-user");
    expect(await role(10, GROUP)).toBe("allowed-user");
    expect(await role(99, GROUP)).toBe("allowed-chat");
    expect(await role(99, 99)).toBe("unknown");
    expect(await role(30, 30)).toBe("unknown"); // waiting for an admin is not allowed yet
    expect(await role(null, GROUP)).toBe("allowed-chat"); // a channel post has no sender
  });

  it("treats a banned chat, and a banned person anywhere, as banned — but never an admin", async () => {
    expect(await role(20, 20)).toBe("banned");
    expect(await role(20, GROUP)).toBe("banned");
    expect(await role(99, -100600)).toBe("banned");
    expect(await role(10, -100600)).toBe("banned");
    expect(await role(1, -100600)).toBe("admin");
  });

  it("lets members of an allowed chat act only under the `chat` policy", async () => {
    const member = await resolveAccess(store, ADMINS, 99, GROUP);
    const person = await resolveAccess(store, ADMINS, 10, GROUP);
    const admin = await resolveAccess(store, ADMINS, 1, 1);
    const stranger = await resolveAccess(store, ADMINS, 99, 99);
    expect(mayActOnIncidents(member, "users")).toBe(false);
    expect(mayActOnIncidents(member, "chat")).toBe(true);
    expect(mayActOnIncidents(person, "users")).toBe(true);
    expect(mayActOnIncidents(admin, "users")).toBe(true);
    expect(mayActOnIncidents(stranger, "chat")).toBe(false);
    expect([member, person, admin, stranger].map(isServed)).toEqual([true, true, true, false]);
  });
});
