// Telegram updates across a change of leader (here: the bot stopped while a "dead" leader's work is in the
// store, then started again as the next leader). What the dead leader received and handled is not run
// again, though Telegram still offers it (the offset was never confirmed); what it received and never
// handled is run once by the next leader, though Telegram has forgotten it.
import { describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { openStore } from "../../src/store/index.js";
import { startTelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("ru");

function commandUpdate(updateId: number, from: FakeUser, text: string) {
  return {
    update_id: updateId,
    message: {
      message_id: 50_000 + updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: from.id, type: "private", first_name: from.first_name },
      from: { id: from.id, is_bot: false, first_name: from.first_name },
      text,
      entities: [{ type: "bot_command", offset: 0, length: text.length }],
    },
  };
}

describe("Telegram updates across a change of leader", () => {
  it("runs what the previous leader received but never handled, once, and never what it handled", async () => {
    const h = await startTelegramHarness();
    try {
      const handledBefore: FakeUser = { id: 93_001, first_name: "Handled" };
      const leftOver: FakeUser = { id: 93_002, first_name: "LeftOver" };
      const forgotten: FakeUser = { id: 93_003, first_name: "Forgotten" };
      for (const u of [handledBefore, leftOver, forgotten])
        h.fake.addChat({ id: u.id, type: "private", first_name: u.first_name });
      let lostId = 0;

      await h.restart(async () => {
        // Received by the dead leader in an earlier batch, never handled; confirmed (forgotten) as soon as
        // anyone polls with the stored offset.
        const lost = h.fake.sendText(forgotten, forgotten.id, "/id");
        // Still offered by Telegram (never confirmed): one the dead leader handled, one it did not.
        const handled = h.fake.sendText(handledBefore, handledBefore.id, "/id");
        const pending = h.fake.sendText(leftOver, leftOver.id, "/id");
        const store = await openStore(h.config.bot.dbPath);
        try {
          const epoch = (await store.lease.read())?.epoch ?? 0;
          // Recorded by the dead leader; the first of them also handled.
          const dead = store.fenced(epoch);
          await dead.updates.receive(
            [
              { updateId: handled, body: JSON.stringify(commandUpdate(handled, handledBefore, "/id")) },
              { updateId: pending, body: JSON.stringify(commandUpdate(pending, leftOver, "/id")) },
            ],
            "dead",
            epoch,
          );
          await dead.updates.markHandled(handled, "dead");
          await dead.updates.receive(
            [{ updateId: lost, body: JSON.stringify(commandUpdate(lost, forgotten, "/id")) }],
            "dead",
            epoch,
          );
          lostId = lost;
        } finally {
          await store.close();
        }
      });

      const answer = (u: FakeUser) => tx.commands.idAnswer({ chatId: u.id, userId: u.id });
      await h.fake.waitFor(
        () => h.textsIn(forgotten.id).length === 1 && h.textsIn(leftOver.id).length === 1,
        5_000,
      );
      expect(h.textsIn(forgotten.id)).toEqual([answer(forgotten)]);
      expect(h.textsIn(leftOver.id)).toEqual([answer(leftOver)]);
      // The poller went on from the stored offset: Telegram forgets both, the handled one is not run again.
      await h.until(async () => h.fake.calls.some((c) => c.method === "getUpdates"), 5_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(h.textsIn(handledBefore.id)).toEqual([]);
      expect(await h.store.updates.handledBy(lostId)).toMatchObject({ handled: true });

      // And a further restart runs none of them again.
      await h.restart();
      await h.say(handledBefore, handledBefore.id, "/id");
      expect(h.textsIn(handledBefore.id)).toEqual([answer(handledBefore)]);
      expect(h.textsIn(leftOver.id)).toHaveLength(1);
      expect(h.textsIn(forgotten.id)).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});
