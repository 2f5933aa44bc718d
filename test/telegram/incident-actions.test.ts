// Refresh / Approve / Close pressed under incident messages, against the MP SIEM emulator: who may act,
// what changes in the SIEM and the store, and that forged or foreign presses change nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { botTexts } from "../../src/telegram/texts.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("en");
const USER: FakeUser = { id: 80_001, first_name: "Ivan", last_name: "Petrov", username: "ivan" };
const OTHER: FakeUser = { id: 80_002, first_name: "Olga" }; // allowed personally, no username
const MEMBER: FakeUser = { id: 80_003, first_name: "Member" }; // in the group, not allowed personally
const GROUP = -5001;

type Button = { text: string; callback_data?: string };

async function setUp(policy: "users" | "chat"): Promise<TelegramHarness> {
  const h = await startTelegramHarness({
    locale: "en",
    actionPolicy: policy,
    commandRateLimit: { limit: 1000, windowMs: 1000 },
  });
  const admin = h.admins[0]!;
  for (const u of [USER, OTHER])
    h.fake.addChat({ id: u.id, type: "private", first_name: u.first_name, username: u.username });
  h.fake.addChat({ id: GROUP, type: "supergroup", title: "SOC" });
  for (const id of [USER.id, OTHER.id, GROUP]) await h.say(admin, admin.id, `/accept ${id}`);
  return h;
}

function keyboardOf(h: TelegramHarness, chatId: number, messageId: number): Button[] {
  const m = h.fake.messages(chatId).find((x) => x.messageId === messageId);
  const markup = m?.replyMarkup as { inline_keyboard?: Button[][] } | undefined;
  return (markup?.inline_keyboard ?? []).flat();
}
function dataOf(h: TelegramHarness, chatId: number, messageId: number, label: string): string {
  const button = keyboardOf(h, chatId, messageId).find((b) => b.text.includes(label));
  if (!button?.callback_data) throw new Error(`no "${label}" button on message ${messageId} in ${chatId}`);
  return button.callback_data;
}

describe("incident buttons (default policy: users)", () => {
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await setUp("users");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("Approve by an allowed user changes the SIEM (with a comment naming them) and the store, and asks delivery to edit", async () => {
    const inc = await h.deliverIncident([USER.id, GROUP]);
    const msg = inc.messages.get(USER.id)!;
    const answer = await h.press(USER, USER.id, msg, dataOf(h, USER.id, msg, "Approve"));
    expect(answer).toBe(tx.actions.approved);

    expect(h.emu.state.get(inc.id)?.status).toBe("Approved");
    const [transition] = h.emu.state.transitionsOf(inc.id);
    expect(transition).toMatchObject({ prevStatus: "New", nextStatus: "Approved", via: "api" });
    expect(transition!.comment).toBe(tx.siemComment.approveMessage("@ivan (Ivan Petrov, 80001)"));
    expect(transition!.measures).toBe(tx.siemComment.approveMeasures);

    const stored = await h.store.incidents.get(inc.id);
    expect(stored?.status).toBe("Approved");
    expect(stored?.lastAction).toMatchObject({ status: "Approved", by: "@ivan" });
    expect(stored?.version).toBeGreaterThan(1);
    expect(h.changed).toContain(inc.id);
    const audit = (await h.audit()).find((e) => e.action === "incident.approve" && e.target === inc.id);
    expect(audit).toMatchObject({ actor_id: USER.id, chat_id: USER.id, result: "ok" });
    expect(await h.metrics.total(h.metrics.actions)).toBeGreaterThan(0);
  });

  it("Close asks in place (Yes, close / Cancel); Cancel restores the buttons; Yes closes it in the SIEM", async () => {
    const inc = await h.deliverIncident([GROUP]);
    const msg = inc.messages.get(GROUP)!;
    const admin = h.admins[0]!;
    expect(await h.press(admin, GROUP, msg, dataOf(h, GROUP, msg, "Close"))).toBe(tx.workflow.confirmClose);
    // The press is answered first; the keyboard edit follows at the chat's pace.
    const texts = () => keyboardOf(h, GROUP, msg).map((b) => b.text);
    await h.until(() => texts()[0] === tx.buttons.closeYes);
    expect(texts()).toEqual([
      tx.buttons.closeYes,
      tx.workflow.buttons.closeDuplicate,
      tx.workflow.buttons.closeAuthorised,
      tx.workflow.buttons.closeOther,
      tx.buttons.closeNo,
    ]);
    expect(h.emu.state.get(inc.id)?.status).toBe("New");

    expect(await h.press(admin, GROUP, msg, dataOf(h, GROUP, msg, "Cancel"))).toBe(tx.actions.cancelled);
    await h.until(() => texts()[0] === tx.buttons.approve);
    expect(texts()).toEqual([
      tx.buttons.approve,
      tx.workflow.buttons.take,
      tx.buttons.close,
      tx.buttons.refresh,
    ]);

    await h.press(admin, GROUP, msg, dataOf(h, GROUP, msg, "Close"));
    await h.until(() => texts()[0] === tx.buttons.closeYes);
    expect(await h.press(admin, GROUP, msg, dataOf(h, GROUP, msg, "Yes, close"))).toBe(
      tx.workflow.answers.closed("false_positive"),
    );
    expect(h.emu.state.get(inc.id)?.status).toBe("Closed");
    expect(h.emu.state.transitionsOf(inc.id)[0]!.comment).toBe(
      tx.workflow.siemComment.closeMessage("@admin1 (Admin1, 9001)", "false_positive"),
    );
    expect(await h.store.incidents.get(inc.id)).toMatchObject({
      status: "Closed",
      lastAction: { status: "Closed", by: "@admin1" },
    });
  });

  it("Refresh re-reads the SIEM: a change made in the SIEM UI reaches the store", async () => {
    const inc = await h.deliverIncident([OTHER.id]);
    const msg = inc.messages.get(OTHER.id)!;
    h.emu.state.setStatus(inc.id, "InProgress");
    expect(await h.press(OTHER, OTHER.id, msg, dataOf(h, OTHER.id, msg, "Refresh"))).toBe(
      tx.actions.refreshed,
    );
    expect((await h.store.incidents.get(inc.id))?.status).toBe("InProgress");
    expect(h.changed.filter((id) => id === inc.id).length).toBeGreaterThanOrEqual(1);
  });

  it("Approve on an incident someone already changed says so and shows the current state", async () => {
    const inc = await h.deliverIncident([OTHER.id]);
    const msg = inc.messages.get(OTHER.id)!;
    h.emu.state.setStatus(inc.id, "Approved");
    const answer = await h.press(OTHER, OTHER.id, msg, dataOf(h, OTHER.id, msg, "Approve"));
    // Approve is not offered on Approved: no transition is attempted; the answer names the SIEM and when.
    expect(answer).toMatch(/^Not done: the incident is already Approved \(SIEM, \d\d:\d\d/);
    expect((await h.store.incidents.get(inc.id))?.status).toBe("Approved");
    expect(h.emu.state.transitionsOf(inc.id).map((x) => x.via)).toEqual(["ui"]);
    expect((await h.audit()).find((e) => e.target === inc.id)?.result).toBe("already_changed");
  });

  it("a member of an allowed group who was not allowed personally cannot act; nothing changes", async () => {
    const inc = await h.deliverIncident([GROUP]);
    const msg = inc.messages.get(GROUP)!;
    for (const label of ["Approve", "Close", "Refresh"]) {
      expect(await h.press(MEMBER, GROUP, msg, dataOf(h, GROUP, msg, label))).toBe(tx.actions.notAllowed);
    }
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
    expect(h.emu.state.transitionsOf(inc.id)).toEqual([]);
    expect(keyboardOf(h, GROUP, msg).map((b) => b.text)).toContain(tx.buttons.approve);
    const refusals = (await h.audit()).filter((e) => e.target === inc.id && e.result === "not_allowed");
    expect(refusals).toHaveLength(3);
  });

  it("forged and foreign presses are answered 'unknown', change nothing, and are audited", async () => {
    const mine = await h.deliverIncident([USER.id]); // never delivered to OTHER
    const both = await h.deliverIncident([USER.id, OTHER.id]);
    const otherMsg = both.messages.get(OTHER.id)!;
    const userMsg = mine.messages.get(USER.id)!;
    const approveMine = dataOf(h, USER.id, userMsg, "Approve");
    const approveBoth = dataOf(h, USER.id, both.messages.get(USER.id)!, "Approve");
    const unknownBefore = (await h.audit()).filter((e) => e.action === "button.unknown").length;

    const forged: Array<[number, string]> = [
      [otherMsg, approveMine], // incident never delivered to this chat
      [userMsg, approveBoth], // data copied from another chat's message onto a message of a different incident
      [otherMsg + 1000, approveBoth], // a message the data does not belong to
      [otherMsg, `i:zz:${both.id}`], // unknown action
      [otherMsg, `i:a:${both.id}${"x".repeat(40)}`], // too long
      [otherMsg, "\u0000<b>garbage</b>"],
      [otherMsg, "i:a:11111111-2222-4333-8444-555555555555"], // unknown incident
      [otherMsg, "c:xx:1"],
    ];
    for (const [messageId, data] of forged) {
      expect(await h.press(OTHER, OTHER.id, messageId, data), data).toBe(tx.actions.unknownButton);
    }
    for (const id of [mine.id, both.id]) {
      expect(h.emu.state.get(id)?.status).toBe("New");
      expect(h.emu.state.transitionsOf(id)).toEqual([]);
      expect((await h.store.incidents.get(id))?.status).toBe("New");
    }
    const unknownAfter = (await h.audit()).filter((e) => e.action === "button.unknown").length;
    expect(unknownAfter - unknownBefore).toBe(forged.length);
  });

  it("a slow SIEM: the press is answered early ('working on it'), the result lands in the store; a second press waits its turn", async () => {
    const inc = await h.deliverIncident([USER.id]);
    const msg = inc.messages.get(USER.id)!;
    const approve = dataOf(h, USER.id, msg, "Approve");
    h.emu.state.setLatency(1200);
    try {
      const first = h.fake.pressButton(USER, USER.id, msg, approve);
      await h.fake.waitFor(() => h.fake.answeredCallbacks().has(first), 5000);
      expect(h.fake.answeredCallbacks().get(first)?.text).toBe(botTexts("en").working);
      const second = await h.press(USER, USER.id, msg, approve);
      expect(second).toBe(tx.actions.busy);
      await h.until(async () => (await h.store.incidents.get(inc.id))?.status === "Approved", 15_000);
    } finally {
      h.emu.state.clearFaults();
    }
    expect(h.emu.state.transitionsOf(inc.id)).toHaveLength(1);
  });

  it("a SIEM failure is reported with its reason; a failed close restores the buttons", async () => {
    const inc = await h.deliverIncident([USER.id]);
    const msg = inc.messages.get(USER.id)!;
    await h.press(USER, USER.id, msg, dataOf(h, USER.id, msg, "Close"));
    await h.until(() => keyboardOf(h, USER.id, msg)[0]?.text === tx.buttons.closeYes);
    const yes = dataOf(h, USER.id, msg, "Yes, close");
    h.emu.state.failWith503();
    try {
      const answer = await h.press(USER, USER.id, msg, yes, 10_000);
      expect(answer).toMatch(/^Failed: server/);
      expect(answer).not.toContain("emulator-secret");
    } finally {
      h.emu.state.clearFaults();
    }
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
    expect((await h.store.incidents.get(inc.id))?.status).toBe("New");
    await h.fake.waitFor(() => keyboardOf(h, USER.id, msg).some((b) => b.text === tx.buttons.approve), 5000);
    expect(
      (await h.audit()).find((e) => e.target === inc.id && e.action === "incident.close_yes")?.result,
    ).toBe("failed");
  });
});

describe("incident buttons (BOT_ACTION_POLICY=chat)", () => {
  it("any member of an allowed group may act", async () => {
    const h = await setUp("chat");
    try {
      const inc = await h.deliverIncident([GROUP]);
      const msg = inc.messages.get(GROUP)!;
      expect(await h.press(MEMBER, GROUP, msg, dataOf(h, GROUP, msg, "Approve"))).toBe(tx.actions.approved);
      expect(h.emu.state.get(inc.id)?.status).toBe("Approved");
      expect(h.emu.state.transitionsOf(inc.id)[0]!.comment).toContain("Member (80003)");
      expect((await h.store.incidents.get(inc.id))?.lastAction?.by).toBe("Member (80003)");
      // A banned person in that same group still cannot: the press is answered with nothing and ignored.
      const banned: FakeUser = { id: 80_099, first_name: "Banned" };
      await h.say(h.admins[0]!, h.admins[0]!.id, `/ban ${banned.id}`);
      const next = await h.deliverIncident([GROUP]);
      const m = next.messages.get(GROUP)!;
      expect(await h.press(banned, GROUP, m, dataOf(h, GROUP, m, "Approve"))).toBeUndefined();
      expect(h.emu.state.get(next.id)?.status).toBe("New");
      expect((await h.store.incidents.get(next.id))?.status).toBe("New");
    } finally {
      await h.close();
    }
  });
});

describe("the Close confirmation is kept by the bot, not by the keyboard", () => {
  const FIVE_MINUTES = 5 * 60_000;
  let h: TelegramHarness;
  let clock = Date.now();
  beforeAll(async () => {
    h = await startTelegramHarness({
      locale: "en",
      commandRateLimit: { limit: 1000, windowMs: 1000 },
      now: () => clock,
    });
    for (const u of [USER, OTHER])
      h.fake.addChat({ id: u.id, type: "private", first_name: u.first_name, username: u.username });
    for (const id of [USER.id, OTHER.id]) await h.say(h.admins[0]!, h.admins[0]!.id, `/accept ${id}`);
  });
  afterAll(async () => {
    await h?.close();
  });

  /**
   * Moves the bot's clock on as a running bot lives through it: polling all the while (an update at least
   * every 2 minutes), so the time does not look like the bot was offline (downtime.ts).
   */
  async function passTime(ms: number) {
    for (let left = ms; left > 0; left -= 120_000) {
      clock += Math.min(left, 120_000);
      await h.say(USER, USER.id, "/id");
    }
  }
  const yesData = (id: string) => `i:cy:${id}`;
  const closeData = (id: string) => `i:c:${id}`;
  const labels = (chatId: number, msg: number) => keyboardOf(h, chatId, msg).map((b) => b.text);

  it("a forged 'Yes, close' on a message nobody confirmed on only shows the confirmation", async () => {
    const inc = await h.deliverIncident([USER.id]);
    const msg = inc.messages.get(USER.id)!;
    expect(await h.press(USER, USER.id, msg, yesData(inc.id))).toBe(tx.workflow.confirmClose);
    await h.until(() => labels(USER.id, msg)[0] === tx.buttons.closeYes);
    await h.until(async () =>
      (await h.audit()).some((e) => e.target === inc.id && e.action === "incident.close_yes"),
    );
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
    expect(h.emu.state.transitionsOf(inc.id)).toEqual([]);
    const audit = (await h.audit()).find((e) => e.target === inc.id && e.action === "incident.close_yes");
    expect(audit).toMatchObject({ result: "confirm_asked", detail: "not confirmed on this message" });
    // That press asked for the confirmation: now "Yes, close" closes.
    expect(await h.press(USER, USER.id, msg, yesData(inc.id))).toBe(
      tx.workflow.answers.closed("false_positive"),
    );
    expect(h.emu.state.get(inc.id)?.status).toBe("Closed");
  });

  it("a confirmation on one chat's copy does not arm another chat's copy", async () => {
    const inc = await h.deliverIncident([USER.id, OTHER.id]);
    const mine = inc.messages.get(USER.id)!;
    const theirs = inc.messages.get(OTHER.id)!;
    // Each press waits for the one before to finish (its keyboard edit), as people do.
    expect(await h.press(USER, USER.id, mine, closeData(inc.id))).toBe(tx.workflow.confirmClose);
    await h.until(() => labels(USER.id, mine)[0] === tx.buttons.closeYes);
    expect(await h.press(OTHER, OTHER.id, theirs, yesData(inc.id))).toBe(tx.workflow.confirmClose);
    await h.until(() => labels(OTHER.id, theirs)[0] === tx.buttons.closeYes);
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
    // Cancel withdraws it: a "Yes, close" after it asks again.
    expect(await h.press(USER, USER.id, mine, `i:cn:${inc.id}`)).toBe(tx.actions.cancelled);
    await h.until(() => labels(USER.id, mine)[0] === tx.buttons.approve);
    expect(await h.press(USER, USER.id, mine, yesData(inc.id))).toBe(tx.workflow.confirmClose);
    await h.until(() => labels(USER.id, mine)[0] === tx.buttons.closeYes);
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
  });

  it("a confirmation expires after 5 minutes: 'Yes, close' then shows the confirmation again", async () => {
    const inc = await h.deliverIncident([USER.id]);
    const msg = inc.messages.get(USER.id)!;
    expect(await h.press(USER, USER.id, msg, closeData(inc.id))).toBe(tx.workflow.confirmClose);
    await h.until(() => labels(USER.id, msg)[0] === tx.buttons.closeYes);
    await passTime(FIVE_MINUTES + 1_000);
    expect(await h.press(USER, USER.id, msg, yesData(inc.id))).toBe(tx.workflow.confirmClose);
    await h.until(async () =>
      (await h.audit()).some((e) => e.target === inc.id && e.action === "incident.close_yes"),
    );
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
    const audit = (await h.audit()).find((e) => e.target === inc.id && e.action === "incident.close_yes");
    expect(audit?.result).toBe("confirm_asked");
    // Just inside the 5 minutes it still counts.
    await passTime(FIVE_MINUTES - 1_000);
    expect(await h.press(USER, USER.id, msg, yesData(inc.id))).toBe(
      tx.workflow.answers.closed("false_positive"),
    );
    expect(h.emu.state.get(inc.id)?.status).toBe("Closed");
  });

  it("a confirmation survives a restart of the bot", async () => {
    const inc = await h.deliverIncident([OTHER.id]);
    const msg = inc.messages.get(OTHER.id)!;
    expect(await h.press(OTHER, OTHER.id, msg, closeData(inc.id))).toBe(tx.workflow.confirmClose);
    await h.until(() => labels(OTHER.id, msg)[0] === tx.buttons.closeYes);
    await h.restart();
    clock += 60_000;
    expect(await h.press(OTHER, OTHER.id, msg, yesData(inc.id))).toBe(
      tx.workflow.answers.closed("false_positive"),
    );
    expect(h.emu.state.get(inc.id)?.status).toBe("Closed");
  });
});
