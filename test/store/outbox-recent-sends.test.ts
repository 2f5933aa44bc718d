// outbox.sentSince: what the pacer must remember across a restart (Telegram's windows outlive the process).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const incident = (n: number) => incidentSummary(n);

describe.each(DIALECTS)("%s: outbox.sentSince", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;
  let clock = 1_000_000;

  beforeEach(async () => {
    store = await openStore(database.target, { now: () => clock });
    for (const id of [11, -22]) {
      await store.chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
      await store.chats.setState(id, "allowed", null);
    }
  });
  afterEach(async () => {
    await store.close();
  });

  it("lists one entry per message sent since a time, a digest once, oldest first", async () => {
    await store.incidents.ingest([1, 2, 3, 4].map(incident), null);
    const group = await store.outbox.pendingForChat(-22);
    const single = await store.outbox.pendingForChat(11);
    clock = 1_000_000;
    await store.outbox.markSent([single[0]!.id], 1, "single", 1); // before the window
    clock = 1_050_000;
    await store.outbox.markSent(
      group.slice(0, 3).map((r) => r.id),
      7,
      "digest",
      0,
    );
    clock = 1_040_000;
    await store.outbox.markSent([single[1]!.id], 2, "single", 1);
    expect(await store.outbox.sentSince(1_010_000)).toEqual([
      { chatId: 11, sentAt: 1_040_000 },
      { chatId: -22, sentAt: 1_050_000 },
    ]);
    // Pending and cancelled rows are not messages.
    await store.outbox.cancel([group[3]!.id], "refused");
    expect(await store.outbox.sentSince(0)).toHaveLength(3);
  });
});
