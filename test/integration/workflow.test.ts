// The whole service (intake, store, delivery, bot) against the emulator and the fake Bot API: every
// status shows exactly its buttons on the delivered cards (design.md §4); Take by a linked person assigns
// in the SIEM and every copy then shows the assignee and the bot's history; a press that came too late
// (the SIEM UI changed it first) is answered and every copy is brought up to date.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeMessage, FakeUser } from "../../src/botapi-fake/index.js";
import { type EmulatorIncident, userIdFor } from "../../src/emulator/index.js";
import {
  ALICE,
  CHATS,
  firstPollDone,
  GROUP_CHAT,
  keysIn,
  PRIVATE_CHAT,
  type RunningService,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

interface Button {
  text: string;
  callback_data?: string;
}

const BUTTONS: Record<string, string[]> = {
  New: ["Approve", "Take", "Close", "Refresh"],
  Approved: ["Take", "Resolve", "Close", "Refresh"],
  InProgress: ["Resolve", "Close", "Refresh"],
  Resolved: ["Close", "Refresh"],
  Closed: ["Refresh"],
};
const SHOWN_STATUS: Record<string, string> = {
  New: "New",
  Approved: "Approved",
  InProgress: "In progress",
  Resolved: "Resolved",
  Closed: "Closed",
};

const buttonsOf = (message: FakeMessage): Button[] =>
  ((message.replyMarkup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();
/** The word after the emoji: what design.md §4 names. */
const word = (label: string) => label.replace(/^\p{Extended_Pictographic}\uFE0F? /u, "");

describe("the workflow through the whole service", () => {
  let world: World;
  let running: RunningService;
  const byStatus: Record<string, EmulatorIncident> = {};
  let race: EmulatorIncident;
  let take: EmulatorIncident;

  function copyIn(chatId: number, incident: EmulatorIncident): FakeMessage {
    const copies = world.fake.messages(chatId).filter((m) => keysIn(m).includes(incident.key));
    expect(copies, `copies of ${incident.key} in chat ${chatId}`).toHaveLength(1);
    return copies[0]!;
  }

  async function press(who: FakeUser, chatId: number, incident: EmulatorIncident, label: string) {
    const message = copyIn(chatId, incident);
    const button = buttonsOf(message).find((b) => word(b.text) === label);
    expect(button, `"${label}" under ${incident.key} in chat ${chatId}`).toBeDefined();
    const id = world.fake.pressButton(who, chatId, message.messageId, button!.callback_data!);
    await waitUntil("the press is answered", () => world.fake.answeredCallbacks().has(id), 10_000, {
      pollMs: 20,
    });
    return world.fake.answeredCallbacks().get(id)?.text;
  }

  /** Waits until every copy shows `pattern` and exactly the buttons of `status`, in order. */
  async function everyCopyShows(incident: EmulatorIncident, status: string, pattern = /./) {
    const wanted = BUTTONS[status]!;
    return waitUntil(
      `every copy of ${incident.key} shows ${status}`,
      () =>
        CHATS.every((chatId) => {
          const copy = copyIn(chatId, incident);
          const words = buttonsOf(copy).map((b) => word(b.text));
          return (
            copy.plainText.includes(`Status: ${SHOWN_STATUS[status]}`) &&
            pattern.test(copy.plainText) &&
            JSON.stringify(words) === JSON.stringify(wanted)
          );
        }),
      15_000,
      {
        pollMs: 50,
        detail: () =>
          CHATS.map((c) => {
            const copy = copyIn(c, incident);
            return `${JSON.stringify(copy.plainText.slice(0, 400))} ${JSON.stringify(buttonsOf(copy).map((b) => b.text))}`;
          }).join(" | "),
      },
    );
  }

  beforeAll(async () => {
    world = await startWorld();
    running = await world.startInProcess({ bot: { pollIntervalMs: 1000 } });
    await firstPollDone(running);
    await world.approveByPerson(running, ALICE, PRIVATE_CHAT);
    await world.approveByPerson(running, ALICE, GROUP_CHAT);
    for (const status of Object.keys(BUTTONS)) {
      byStatus[status] = world.emu.state.addIncident({
        status: status as "New",
        eventsCount: 1,
        severity: "High",
      });
    }
    race = world.emu.state.addIncident({ status: "New", eventsCount: 1, severity: "High" });
    take = world.emu.state.addIncident({ status: "Approved", eventsCount: 1, severity: "High" });
    const all = [...Object.values(byStatus), race, take];
    await waitForKeys(
      world,
      CHATS,
      all.map((i) => i.key),
      20_000,
    );
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  it("every status offers exactly its buttons, in every copy", async () => {
    for (const [status, incident] of Object.entries(byStatus)) await everyCopyShows(incident, status);
  });

  it("Take by a linked person assigns in the SIEM; every copy shows the assignee and the bot's history", async () => {
    world.emu.state.addUser({ userName: "alice.mp", firstName: "Alice", lastName: "Liddell" });
    await running.service.parts.store.userLinks.link({
      telegramId: ALICE.id,
      mpLogin: "alice.mp",
      mpUserId: userIdFor("alice.mp"),
      telegramName: "@alice",
      linkedBy: null,
      linkedByName: null,
    });
    const answer = await press(ALICE, GROUP_CHAT, take, "Take");
    expect(answer).toBe("In progress and assigned to alice.mp");
    const puts = world.emu.state.updatesOf(take.id);
    expect(puts.map((p) => [p.status, (p.body as { assigned: string }).assigned])).toEqual([
      [204, userIdFor("alice.mp")],
    ]);
    await everyCopyShows(
      take,
      "InProgress",
      /Assignee: Alice Liddell[\s\S]*Through the bot:\n• \d\d:\d\d @alice: took it/,
    );
  });

  it("a press that came too late is answered with who and when, and every copy is brought up to date", async () => {
    await everyCopyShows(race, "New");
    // Polling paused: only the press itself can learn of the change made in the SIEM UI.
    await running.service.parts.intake.stop();
    try {
      world.emu.state.setStatus(race.id, "Resolved", "fixed by the analyst in the SIEM");
      const answer = await press(ALICE, PRIVATE_CHAT, race, "Approve");
      expect(answer).toMatch(/^Not done: the incident is already Resolved \(SIEM, \d\d:\d\d\)/);
      expect(world.emu.state.transitionsOf(race.id).map((t) => t.via)).toEqual(["ui"]);
      await everyCopyShows(race, "Resolved");
    } finally {
      running.service.parts.intake.start();
    }
  });
});
