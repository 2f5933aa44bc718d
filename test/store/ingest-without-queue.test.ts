// ingest(..., { queue: false }): incidents recorded as seen (and the watermark moved) without outbox rows.
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const incident = (n: number, createdMs: number) => incidentSummary(n, createdMs, "Low");

describe.each(DIALECTS)("%s: ingest without queuing", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("records incidents and the watermark but queues nothing; a later normal ingest does not queue them either", async () => {
    store = await openStore(database.target);
    await store.chats.remember({ id: 5, kind: "private" });
    await store.chats.setState(5, "allowed", 1);

    const result = await store.incidents.ingest([incident(1, 1000), incident(2, 2000)], 2000, {
      queue: false,
    });
    expect(result).toEqual({ added: [incident(1, 0).id, incident(2, 0).id], queued: 0 });
    expect(await store.incidents.watermark()).toBe(2000);
    expect(await store.outbox.pending()).toEqual([]);

    const later = await store.incidents.ingest([incident(1, 1000), incident(3, 3000)], 3000);
    expect(later).toEqual({ added: [incident(3, 0).id], queued: 1 });
    expect((await store.outbox.pending()).map((p) => p.incidentId)).toEqual([incident(3, 0).id]);
  });
});
