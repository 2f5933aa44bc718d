// What the rest of the service does with a pruned incident: delivery no longer edits its copies, and a
// press on one of its buttons is answered as an expired button (audited, nothing changed in the SIEM).
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { t } from "../../src/i18n/index.js";
import type { IncidentSummary } from "../../src/siem/types.js";
import { RetentionTask, type Store, type StoredIncident } from "../../src/store/index.js";
import { FAST_PACE, GROUP_CHAT, type Harness, PRIVATE_CHAT, startHarness } from "../delivery/harness.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const DAY = 86_400_000;
const RETENTION = 90 * DAY;
const silent = pino({ level: "silent" });

/** A prune whose cutoff is `cutoffMs`, as it runs once BOT_RETENTION has passed since then. */
function pruneOlderThan(repository: Store["retention"], cutoffMs: number) {
  return new RetentionTask({
    repository,
    retentionMs: RETENTION,
    logger: silent,
    now: () => cutoffMs + RETENTION,
    pauseMs: 0,
  }).runOnce();
}

function summaryOf(incident: StoredIncident): IncidentSummary {
  const { id, key, name, severity, status, type, category, created } = incident;
  return { id, key, name, severity, status, type, category, created, isConfirmed: false };
}

describe("a pruned incident", () => {
  let d: Harness | undefined;
  let h: TelegramHarness | undefined;
  afterEach(async () => {
    await d?.close();
    await h?.close();
    d = undefined;
    h = undefined;
  });

  it("has its copies no longer edited by delivery", async () => {
    d = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE });
    const [old] = await d.addIncidents(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [young] = await d.addIncidents(1);
    d.delivery.start();
    await d.delivery.idle({ timeoutMs: 10_000 });
    await d.delivery.stop();
    for (const chat of [PRIVATE_CHAT, GROUP_CHAT]) expect(d.fake.messages(chat)).toHaveLength(2);

    // Both change in the SIEM; before delivery edits them, the older one falls out of the retention.
    for (const id of [old!, young!]) {
      const before = (await d.store.incidents.get(id))!;
      await d.store.incidents.refresh({ ...summaryOf(before), name: `${before.name} changed` });
    }
    expect(await d.store.outbox.staleCopies()).toHaveLength(4);
    const oldSeen = (await d.store.incidents.get(old!))!.firstSeenAt;
    expect(await pruneOlderThan(d.store.retention, oldSeen + 1)).toEqual({
      incidents: 1,
      outbox: 2,
      audit: 0,
    });

    const delivery = d.restart();
    delivery.start();
    await delivery.idle({ timeoutMs: 10_000 });
    for (const chat of [PRIVATE_CHAT, GROUP_CHAT]) {
      const texts = d.fake.messages(chat).map((m) => m.plainText);
      expect(texts).toHaveLength(2);
      // The young incident's copy was edited; the pruned one's was left as it was.
      expect(texts.filter((text) => text.includes("changed"))).toHaveLength(1);
    }
    expect(d.fake.calls.filter((c) => c.method === "editMessageText")).toHaveLength(2);
  });

  it("is answered as an expired button when someone presses one of its buttons", async () => {
    h = await startTelegramHarness({ locale: "en" });
    const admin = h.admins[0]!;
    await h.say(admin, admin.id, `/accept ${admin.id}`);
    const inc = await h.deliverIncident([admin.id], { status: "New" });
    const messageId = inc.messages.get(admin.id)!;
    const message = h.fake.messages(admin.id).find((m) => m.messageId === messageId)!;
    const markup = message.replyMarkup as {
      inline_keyboard: Array<Array<{ text: string; callback_data?: string }>>;
    };
    const approve = markup.inline_keyboard.flat().find((b) => b.text.includes("Approve"))!;

    const seen = (await h.store.incidents.get(inc.id))!.firstSeenAt;
    const counts = await pruneOlderThan(h.store.retention, seen + 1);
    expect(counts.incidents).toBe(1);
    expect(await h.store.outbox.copyIn(inc.id, admin.id)).toBeUndefined();

    const answer = await h.press(admin, admin.id, messageId, approve.callback_data!);
    expect(answer).toBe(t("en").actions.unknownButton);
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
    const audit = await h.audit();
    expect(audit[0]).toMatchObject({ action: "button.unknown", result: "unknown" });
  });
});
