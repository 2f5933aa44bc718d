// The workflow's tables on both dialects (migration 0007): Telegram ↔ MP links, the card's details
// (assignee, rules, targets, attackers) and the short history of actions taken through the bot.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { IncidentDetails } from "../../src/siem/types.js";
import { BOT_ACTIONS_KEPT, openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const T0 = 1_700_000_000_000;

describe.each(DIALECTS)("%s: workflow store", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;
  let now = T0;

  beforeEach(async () => {
    now = T0;
    store = await openStore(database.target, { now: () => now });
  });
  afterEach(async () => {
    await store.close();
  });

  it("links, re-links (returning the old link), finds by MP user, lists and unlinks", async () => {
    const tgId = 8_000_000_001; // beyond 32 bits, as real Telegram ids are
    expect(await store.userLinks.get(tgId)).toBeUndefined();
    expect(
      await store.userLinks.link({
        telegramId: tgId,
        mpLogin: "ivanov",
        mpUserId: "u-1",
        telegramName: "@ivan",
        linkedBy: 1,
        linkedByName: "@admin",
      }),
    ).toBeUndefined();
    now += 1000;
    const replaced = await store.userLinks.link({
      telegramId: tgId,
      mpLogin: "ivanov2",
      mpUserId: "u-2",
      telegramName: null,
      linkedBy: 1,
      linkedByName: "@admin",
    });
    expect(replaced?.mpLogin).toBe("ivanov");
    expect(await store.userLinks.get(tgId)).toEqual({
      telegramId: tgId,
      mpLogin: "ivanov2",
      mpUserId: "u-2",
      telegramName: null,
      linkedBy: 1,
      linkedByName: "@admin",
      linkedAt: T0 + 1000,
    });
    await store.userLinks.link({
      telegramId: 5,
      mpLogin: "petrov",
      mpUserId: "u-3",
      telegramName: null,
      linkedBy: null,
      linkedByName: null,
    });
    expect((await store.userLinks.byMpUserId("u-2"))?.telegramId).toBe(tgId);
    expect(await store.userLinks.byMpUserId("u-1")).toBeUndefined();
    expect((await store.userLinks.list()).map((l) => l.telegramId)).toEqual([5, tgId]);
    expect((await store.userLinks.unlink(tgId))?.mpLogin).toBe("ivanov2");
    expect(await store.userLinks.unlink(tgId)).toBeUndefined();
    expect((await store.userLinks.list()).map((l) => l.telegramId)).toEqual([5]);
  });

  it("keeps the details' extras from a read, bumps the version when they change, and not for a list item", async () => {
    const summary = incidentSummary(1);
    await store.incidents.ingest([summary], null, { queue: false });
    expect((await store.incidents.get(summary.id))?.extras).toBeNull();
    const details: IncidentDetails = {
      ...summary,
      description: "d",
      detected: null,
      modified: null,
      correlationRules: ["Password_brute"],
      assignee: { id: "u-1", name: "Иван Иванов" },
      targets: ["web-01"],
      attackers: ["198.51.100.7"],
    };
    const first = await store.incidents.refresh(details);
    expect(first?.changed).toBe(true);
    expect(first?.incident.extras).toEqual({
      assignee: { id: "u-1", name: "Иван Иванов" },
      rules: ["Password_brute"],
      targets: ["web-01"],
      attackers: ["198.51.100.7"],
    });
    expect((await store.incidents.refresh(details))?.changed).toBe(false);
    // A list item knows no extras: they stay.
    expect((await store.incidents.refresh(summary))?.incident.extras?.assignee?.id).toBe("u-1");
    const unassigned = await store.incidents.refresh({ ...details, assignee: null });
    expect(unassigned?.changed).toBe(true);
    expect(unassigned?.incident.extras?.assignee).toBeNull();
  });

  it("keeps the last few bot actions with the status change, oldest first", async () => {
    const summary = incidentSummary(2);
    await store.incidents.ingest([summary], null, { queue: false });
    const actions = ["approve", "take", "resolve", "close", "take", "resolve", "close"] as const;
    for (const [i, action] of actions.entries()) {
      now += 1000;
      await store.incidents.recordAction(
        summary.id,
        { status: `S${i}`, by: `@u${i}`, at: new Date(now) },
        { action, reason: action === "close" ? "duplicate" : null, by: `@u${i}`, at: new Date(now) },
      );
    }
    const stored = await store.incidents.get(summary.id);
    expect(stored?.botActions).toHaveLength(BOT_ACTIONS_KEPT);
    expect(stored?.botActions?.map((a) => a.by)).toEqual(["@u2", "@u3", "@u4", "@u5", "@u6"]);
    expect(stored?.botActions?.[1]).toEqual({
      action: "close",
      reason: "duplicate",
      by: "@u3",
      at: new Date(T0 + 4000),
    });
    // A status change without a bot action (as before) leaves the history alone.
    await store.incidents.recordAction(summary.id, { status: "X", by: "SIEM", at: new Date(now) });
    expect((await store.incidents.get(summary.id))?.botActions).toHaveLength(BOT_ACTIONS_KEPT);
  });
});
