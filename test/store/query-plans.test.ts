// The delivery idle loop runs its queries every second for months: none may read every delivered row.
// Each query the repositories really send is recorded (SQL text and parameters) and explained by
// SQLite itself on the same database file.
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { tempDir } from "../helpers/tmp.js";

interface Recorded {
  sql: string;
  params: unknown[];
}

// better-sqlite3 runs every Kysely query through Statement#all/#run; the prototype is shared.
const probe = new SQLite(":memory:");
const statementProto = Object.getPrototypeOf(probe.prepare("select 1")) as {
  all: (...args: unknown[]) => unknown;
  run: (...args: unknown[]) => unknown;
};
probe.close();

/** Runs `work` and returns every statement it sent whose SQL mentions outbox or audit or incidents. */
async function recordQueries(work: () => Promise<unknown>): Promise<Recorded[]> {
  const seen: Recorded[] = [];
  const { all, run } = statementProto;
  statementProto.all = function (this: { source: string }, ...args: unknown[]) {
    seen.push({ sql: this.source, params: args.flat() });
    return all.apply(this, args);
  };
  statementProto.run = function (this: { source: string }, ...args: unknown[]) {
    seen.push({ sql: this.source, params: args.flat() });
    return run.apply(this, args);
  };
  try {
    await work();
  } finally {
    statementProto.all = all;
    statementProto.run = run;
  }
  return seen.filter((q) => /"(outbox|audit|incidents)"/.test(q.sql));
}

let tmp: ReturnType<typeof tempDir>;
let store: Store;
const DAY = 86_400_000;
const clock = 1_000 * DAY;

function plan(q: Recorded): string[] {
  const db = new SQLite(join(tmp.dir, "bot.db"), { readonly: true });
  try {
    return (
      db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.params as never[])) as Array<{ detail: string }>
    ).map((r) => r.detail);
  } finally {
    db.close();
  }
}

/** Plan lines that read the outbox table: a full scan, or a walk over all rows of one state. */
function outboxSteps(q: Recorded): string[] {
  return plan(q).filter((line) => /\b(SCAN|SEARCH) outbox\b/.test(line));
}

beforeEach(async () => {
  tmp = tempDir();
  store = await openStore(join(tmp.dir, "bot.db"), { now: () => clock });
  for (const id of [11, -22, -33]) {
    await store.chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
    await store.chats.setState(id, "allowed", null);
  }
  // Some delivered history, one stale copy, some pending rows.
  await store.incidents.ingest(
    Array.from({ length: 40 }, (_, i) => incidentSummary(i + 1)),
    null,
  );
  for (const row of await store.outbox.pending(1000)) {
    await store.outbox.markSent([row.id], row.id, "single", 1);
  }
  await store.incidents.ingest([incidentSummary(100)], null);
  await store.audit.record({ actorId: 1, action: "chat.allow", result: "ok" });
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

describe("the delivery idle loop's queries", () => {
  it("find stale copies through the stale-copy indexes, not by walking every delivered row", async () => {
    const recorded = await recordQueries(async () => {
      await store.outbox.staleChatIds();
      await store.outbox.staleCopiesForChat(11, 100);
      await store.outbox.staleCopies(500);
      await store.outbox.staleDigestsForChat(11, 20);
    });
    const lookups = recorded.filter((q) => q.sql.includes('"lookup_copies"'));
    const digests = recorded.filter((q) => !q.sql.includes('"lookup_copies"') && q.params.includes("digest"));
    const singles = recorded.filter((q) => !lookups.includes(q) && !digests.includes(q));
    // Single copies: three as before; the cards /inc sent (their own small table): one per call; digests: two.
    expect([singles.length, lookups.length, digests.length]).toEqual([3, 3, 2]);
    for (const q of singles) {
      const steps = outboxSteps(q);
      expect(steps, q.sql).toHaveLength(1);
      expect(steps[0], q.sql).toMatch(/USING (COVERING )?INDEX outbox_stale\b/);
    }
    for (const q of lookups) expect(outboxSteps(q), q.sql).toEqual([]);
    for (const q of digests) {
      const steps = outboxSteps(q);
      expect(steps, q.sql).toHaveLength(1);
      expect(steps[0], q.sql).toMatch(/USING (COVERING )?INDEX outbox_digest_stale\b/);
    }
  });

  it("read the last minute's sends by send time", async () => {
    const [q] = await recordQueries(() => store.outbox.sentSince(clock - 60_000));
    const steps = outboxSteps(q!);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatch(/USING (COVERING )?INDEX outbox_sent_at \(state=\? AND sent_at>\?\)/);
  });

  it("count pending rows through the pending index, never a scan", async () => {
    const recorded = await recordQueries(async () => {
      await store.outbox.pendingCounts();
      await store.outbox.depthByKind();
      await store.outbox.pendingForChat(11, 50);
    });
    expect(recorded).toHaveLength(3);
    for (const q of recorded) {
      for (const step of outboxSteps(q))
        expect(step, q.sql).toMatch(/^SEARCH outbox USING .*INDEX outbox_pending/);
    }
  });
});

describe("a chat's lane", () => {
  it("reads its pending rows in rank-then-id order through an index, without sorting them", async () => {
    const [q] = await recordQueries(() => store.outbox.pendingForChat(11, 50));
    const lines = plan(q!);
    expect(q!.sql).toMatch(/order by "outbox"\."rank", "outbox"\."id"/);
    expect(outboxSteps(q!)).toEqual([
      expect.stringMatching(/^SEARCH outbox USING INDEX outbox_pending_rank \(state=\? AND chat_id=\?\)/),
    ]);
    expect(
      lines.filter((l) => /TEMP B-TREE/.test(l)),
      lines.join(" | "),
    ).toEqual([]);
  });
});

describe("an incident's copies (cards, edits, the reminder scheduler's every due job)", () => {
  it("are found by the incident's index, never by walking every sent row", async () => {
    const id = incidentSummary(7).id;
    const recorded = await recordQueries(async () => {
      await store.outbox.copies(id);
      await store.outbox.copyIn(id, 11);
      await store.outbox.copiesOfMany([id, incidentSummary(8).id]);
    });
    const reads = recorded.filter((q) => /^select/i.test(q.sql) && q.sql.includes('from "outbox"'));
    expect(reads).toHaveLength(3);
    for (const q of reads) {
      expect(outboxSteps(q), q.sql).toEqual([
        expect.stringMatching(
          /^SEARCH outbox USING INDEX (outbox_incident|outbox_incident_chat)\b.*\(incident_id=\?\)/,
        ),
      ]);
    }
    expect((await store.outbox.copies(id)).map((c) => c.chatId).sort((a, b) => a - b)).toEqual([
      -33, -22, 11,
    ]);
  });
});

describe("retention's deletes", () => {
  it("find old rows by their age through an index", async () => {
    const cutoff = clock + 1;
    const recorded = await recordQueries(async () => {
      await store.retention.pruneIncidents(cutoff, 10);
      await store.retention.pruneOutbox(cutoff, 10);
      await store.retention.pruneAudit(cutoff, 10);
    });
    const selects = recorded.filter((q) => /^select|^delete .* in \(select/i.test(q.sql));
    expect(selects.length).toBeGreaterThanOrEqual(3);
    const lines = selects.flatMap((q) => plan(q).map((line) => `${line}   <- ${q.sql}`));
    // The three age conditions use their indexes; no table is scanned whole.
    expect(
      lines.some((l) => /SEARCH incidents USING INDEX incidents_first_seen \(first_seen_at<\?\)/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => /SEARCH outbox USING INDEX outbox_created \(created_at<\?\)/.test(l))).toBe(
      true,
    );
    expect(lines.some((l) => /SEARCH audit USING (COVERING )?INDEX audit_at \(at<\?\)/.test(l))).toBe(true);
    expect(lines.filter((l) => /^SCAN (outbox|audit|incidents)\b(?! USING)/.test(l))).toEqual([]);
  });
});
