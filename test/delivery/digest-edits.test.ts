// Digests are edited when their incidents change (design.md §4): each line then shows its status mark;
// several changes in one digest make one edit; a digest whose text would not change is not edited; a
// 429 on an edit is waited out in the chat's lane like any other call.
import { afterEach, describe, expect, it } from "vitest";
import type { FakeMessage } from "../../src/botapi-fake/index.js";
import { storedSummary } from "../../src/delivery/view.js";
import { type Harness, PRIVATE_CHAT, startHarness } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const keys = (m: FakeMessage) => [...m.plainText.matchAll(/INC-\d+/g)].map((x) => x[0]);

async function digestWithSeveral(hh: Harness, n: number): Promise<{ digest: FakeMessage; ids: string[] }> {
  await hh.store.chats.setState(-1001234567890, "denied", 1); // the group's pace would only slow the test
  const ids = await hh.addIncidents(n, { severity: "Low", name: "Port_scan" });
  hh.delivery.start();
  await hh.delivery.idle({ timeoutMs: 30_000 });
  const digest = hh.fake.messages(PRIVATE_CHAT).find((m) => keys(m).length >= 5);
  expect(digest, "a digest with at least 5 lines").toBeDefined();
  const byKey = new Map(ids.map((id) => [hh.emu.state.get(id)!.key, id]));
  return { digest: digest!, ids: keys(digest!).map((k) => byKey.get(k)!) };
}

async function setStatus(hh: Harness, id: string, status: string) {
  const stored = (await hh.store.incidents.get(id))!;
  await hh.store.incidents.refresh({ ...storedSummary(stored), status }, undefined, null);
}

const editsOf = (hh: Harness, messageId: number) =>
  hh.fake.calls.filter(
    (c) =>
      c.method === "editMessageText" &&
      c.params.chat_id === PRIVATE_CHAT &&
      c.params.message_id === messageId,
  );

describe("digest edits", () => {
  it("five changes in one digest make one edit, with every line's mark and the lines in place", async () => {
    h = await startHarness({ tuning: { digestThresholdMs: 1_000 }, locale: "en" });
    const hh = h;
    const { digest, ids } = await digestWithSeveral(hh, 30);
    const before = digest.plainText.split("\n");
    await hh.delivery.stop();
    const statuses = ["Approved", "InProgress", "Resolved", "Closed", "Approved"];
    for (const [i, status] of statuses.entries()) await setStatus(hh, ids[i]!, status);
    hh.restart().start();
    await hh.delivery.idle({ timeoutMs: 15_000 });

    const after = hh.fake.messages(PRIVATE_CHAT).find((m) => m.messageId === digest.messageId)!;
    expect(editsOf(hh, digest.messageId)).toHaveLength(1);
    expect(after.edits).toBe(1);
    const lines = after.plainText.split("\n");
    expect(lines[0]).toBe(before[0]);
    expect(keys(after)).toEqual(keys(digest));
    const marks = ["✅", "🛠", "✔️", "✖️", "✅"];
    for (const [i, mark] of marks.entries())
      expect(lines[i + 1]).toBe(before[i + 1]!.replace(/^(\S+) /, `$1 ${mark} `));
    expect(lines.slice(6)).toEqual(before.slice(6));
    for (const line of lines.slice(1)) expect(line).toMatch(/ \/inc_\d+$/);
  }, 60_000);

  it("a change that shows nowhere in the digest (events) makes no edit; a 429 on an edit is waited out", async () => {
    h = await startHarness({ tuning: { digestThresholdMs: 1_000 }, locale: "en" });
    const hh = h;
    const { digest, ids } = await digestWithSeveral(hh, 30);
    const stored = (await hh.store.incidents.get(ids[0]!))!;
    const { changed } = (await hh.store.incidents.refresh(storedSummary(stored), {
      events: [{ id: "e1", date: new Date(), description: "one more event" }],
      total: 7,
    }))!;
    expect(changed).toBe(true);
    hh.delivery.kick();
    await hh.delivery.idle({ timeoutMs: 15_000 });
    expect(editsOf(hh, digest.messageId)).toHaveLength(0);

    hh.fake.failNext("editMessageText", {
      code: 429,
      description: "Too Many Requests: retry after 1",
      retryAfter: 1,
    });
    await setStatus(hh, ids[1]!, "Closed");
    hh.delivery.kick();
    await hh.delivery.idle({ timeoutMs: 15_000 });
    const edits = editsOf(hh, digest.messageId);
    expect(edits).toHaveLength(2);
    expect(edits[1]!.at - edits[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(hh.fake.stats().duringRetryAfter).toBe(0);
    const after = hh.fake.messages(PRIVATE_CHAT).find((m) => m.messageId === digest.messageId)!;
    expect(after.plainText).toContain(`✖️ ${hh.emu.state.get(ids[1]!)!.key} `);
  }, 60_000);
});
