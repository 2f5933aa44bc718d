// People at work: a private chat and a group are allowed the way people do it (/start, the admin
// presses Allow); then Approve, Close (Yes, close) and Refresh change the SIEM and every copy of the
// message; a group member who was never allowed changes nothing; and a change made in the SIEM UI
// reaches every copy within two poll intervals.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeMessage, FakeUser } from "../../src/botapi-fake/index.js";
import type { EmulatorIncident } from "../../src/emulator/index.js";
import {
  ALICE,
  CHATS,
  firstPollDone,
  GROUP_CHAT,
  keysIn,
  MALLORY,
  PRIVATE_CHAT,
  type RunningService,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

const POLL_INTERVAL_MS = 1000;
/** design.md §4: what an Approved card offers. */
const APPROVED_BUTTONS = ["Take", "Resolve", "Close", "Refresh"];

interface Button {
  text: string;
  callback_data?: string;
}

function buttonsOf(message: FakeMessage): Button[] {
  const markup = message.replyMarkup as { inline_keyboard?: Button[][] } | undefined;
  return (markup?.inline_keyboard ?? []).flat();
}

describe("buttons and SIEM changes reach every copy", () => {
  let world: World;
  let running: RunningService;
  let incidents: Record<"approve" | "close" | "refresh" | "refused" | "lagging", EmulatorIncident>;

  /** The message showing this incident in a chat (exactly one). */
  function copyIn(chatId: number, incident: EmulatorIncident): FakeMessage {
    const copies = world.fake.messages(chatId).filter((m) => keysIn(m).includes(incident.key));
    expect(copies, `copies of ${incident.key} in chat ${chatId}`).toHaveLength(1);
    return copies[0]!;
  }

  /** Presses the button labelled `label` under the chat's copy, as `who`; resolves with the answer text. */
  async function press(who: FakeUser, chatId: number, incident: EmulatorIncident, label: string) {
    const message = copyIn(chatId, incident);
    const button = buttonsOf(message).find((b) => b.text.includes(label));
    expect(button, `"${label}" under ${incident.key} in chat ${chatId}`).toBeDefined();
    const id = world.fake.pressButton(who, chatId, message.messageId, button!.callback_data!);
    await waitUntil("the press is answered", () => world.fake.answeredCallbacks().has(id), 10_000, {
      pollMs: 20,
    });
    return world.fake.answeredCallbacks().get(id)?.text;
  }

  /** Waits until every copy shows `pattern` and has exactly the buttons `labels`. */
  async function everyCopyShows(incident: EmulatorIncident, pattern: RegExp, labels: string[]) {
    return waitUntil(
      `every copy of ${incident.key} shows ${pattern}`,
      () =>
        CHATS.every((chatId) => {
          const copy = copyIn(chatId, incident);
          const texts = buttonsOf(copy).map((b) => b.text);
          return (
            pattern.test(copy.plainText) &&
            texts.length === labels.length &&
            labels.every((label) => texts.some((t) => t.includes(label)))
          );
        }),
      10_000,
      {
        pollMs: 50,
        detail: () =>
          CHATS.map((c) => JSON.stringify(copyIn(c, incident).plainText.slice(0, 300))).join(" | "),
      },
    );
  }

  beforeAll(async () => {
    world = await startWorld();
    running = await world.startInProcess({ bot: { pollIntervalMs: POLL_INTERVAL_MS } });
    await firstPollDone(running);
    await world.approveByPerson(running, ALICE, PRIVATE_CHAT);
    await world.approveByPerson(running, ALICE, GROUP_CHAT);
    const [approve, close, refresh, refused, lagging] = world.emu.state.addBurst(5, {
      status: "New",
      eventsCount: 2,
    });
    incidents = {
      approve: approve!,
      close: close!,
      refresh: refresh!,
      refused: refused!,
      lagging: lagging!,
    };
    await waitForKeys(
      world,
      CHATS,
      Object.values(incidents).map((i) => i.key),
      20_000,
    );
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    for (const incident of Object.values(incidents)) {
      await everyCopyShows(incident, /Status: New/, ["Approve", "Take", "Close", "Refresh"]);
    }
    // Polling paused for the button tests, so that only a press can change what the copies show.
    await running.service.parts.intake.stop();
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  it("Approve by an allowed user in the group approves in the SIEM and edits both copies", async () => {
    const answer = await press(ALICE, GROUP_CHAT, incidents.approve, "Approve");
    expect(answer).toBeDefined();
    expect(world.emu.state.get(incidents.approve.id)?.status).toBe("Approved");
    const history = world.emu.state.transitionsOf(incidents.approve.id);
    expect(history.map((h) => [h.nextStatus, h.via])).toEqual([["Approved", "api"]]);
    expect(history[0]!.comment).toContain("@alice");
    await everyCopyShows(
      incidents.approve,
      /Status: Approved[\s\S]*Approved by @alice at /,
      APPROVED_BUTTONS,
    );
  });

  it("Close asks to confirm in place; Yes, close closes in the SIEM and edits both copies", async () => {
    const first = await press(ALICE, PRIVATE_CHAT, incidents.close, "Close");
    expect(first).toMatch(/Yes, close/);
    expect(world.emu.state.get(incidents.close.id)?.status).toBe("New");
    await waitUntil(
      "the Yes, close / Cancel buttons",
      () => buttonsOf(copyIn(PRIVATE_CHAT, incidents.close)).some((b) => b.text.includes("Yes, close")),
      10_000,
      { pollMs: 20 },
    );
    await press(ALICE, PRIVATE_CHAT, incidents.close, "Yes, close");
    expect(world.emu.state.get(incidents.close.id)?.status).toBe("Closed");
    const history = world.emu.state.transitionsOf(incidents.close.id);
    expect(history.map((h) => h.nextStatus)).toEqual(["Closed"]);
    expect(history[0]!.comment).toContain("@alice");
    await everyCopyShows(incidents.close, /Status: Closed[\s\S]*Closed by @alice at /, ["Refresh"]);
  });

  it("Refresh shows what changed in the SIEM in both copies", async () => {
    world.emu.state.setStatus(incidents.refresh.id, "InProgress");
    const answer = await press(ALICE, GROUP_CHAT, incidents.refresh, "Refresh");
    expect(answer).toBeDefined();
    await everyCopyShows(incidents.refresh, /Status: In progress/, ["Resolve", "Close", "Refresh"]);
  });

  it("with a lagging read model, Approve shows at once in every copy, and a Refresh that reads the old status does not take it back", async () => {
    world.emu.state.setReadModelLag(60_000);
    try {
      await press(ALICE, GROUP_CHAT, incidents.lagging, "Approve");
      expect(world.emu.state.get(incidents.lagging.id)?.status).toBe("Approved");
      await everyCopyShows(
        incidents.lagging,
        /Status: Approved[\s\S]*Approved by @alice at /,
        APPROVED_BUTTONS,
      );
      // The SIEM's reads still say New for a minute; pressing Refresh reads exactly that.
      expect((await running.service.parts.siem.getIncident(incidents.lagging.id)).status).toBe("New");
      await press(ALICE, PRIVATE_CHAT, incidents.lagging, "Refresh");
      await running.service.parts.delivery.idle({ timeoutMs: 5_000 });
      await everyCopyShows(
        incidents.lagging,
        /Status: Approved[\s\S]*Approved by @alice at /,
        APPROVED_BUTTONS,
      );
    } finally {
      world.emu.state.setReadModelLag(0);
    }
  });

  it("a group member who was never allowed is refused, told so, and changes nothing", async () => {
    const before = CHATS.map((chatId) => copyIn(chatId, incidents.refused));
    const answer = await press(MALLORY, GROUP_CHAT, incidents.refused, "Approve");
    expect(answer).toBe("You are not allowed to change incidents");
    expect(world.emu.state.get(incidents.refused.id)?.status).toBe("New");
    expect(world.emu.state.transitionsOf(incidents.refused.id)).toEqual([]);
    const audit = await running.service.parts.store.audit.recent(50);
    expect(
      audit.some(
        (e) => e.actor_id === MALLORY.id && e.target === incidents.refused.id && e.result === "not_allowed",
      ),
    ).toBe(true);
    // Give delivery a moment to (wrongly) edit anything, then check nothing changed.
    await running.service.parts.delivery.idle({ timeoutMs: 5_000 });
    CHATS.forEach((chatId, i) => {
      const after = copyIn(chatId, incidents.refused);
      expect(after.edits).toBe(before[i]!.edits);
      expect(after.plainText).toBe(before[i]!.plainText);
    });
  });

  it("a status change made in the SIEM UI reaches every copy within two poll intervals", async () => {
    running.service.parts.intake.start();
    await waitUntil(
      "polling again",
      () => running.service.parts.intake.status().lastSuccessAt! > Date.now() - 500,
      5_000,
      {
        pollMs: 20,
      },
    );
    world.emu.state.setStatus(incidents.refused.id, "Resolved", "closed by the analyst in the SIEM");
    // Two poll intervals, plus a few seconds for the paced edits (1/s per chat) on a busy machine.
    const tookMs = await everyCopyShows(
      incidents.refused,
      /Status: Resolved[\s\S]*Status changed in the SIEM/,
      ["Close", "Refresh"],
    );
    expect(tookMs).toBeLessThan(2 * POLL_INTERVAL_MS + 5_000);
    if (process.env.INTEGRATION_FIGURES) console.info(`SIEM UI change reached every copy in ${tookMs} ms`);
  });
});
