// Working an incident from the card (issue 14) against the MP SIEM emulator and the fake Bot API over
// HTTP: Take (assigned for a linked presser, with the PUT the emulator records; without a link, a hint),
// Resolve, Close with each reason (the comment names the person and the reason), a press that came too
// late (answered with who and when, the copy's buttons set right), a stranger's press (no SIEM call), and
// /link, /unlink, /links (admins only, checked against the users query, audited, answered privately).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { userIdFor } from "../../src/emulator/index.js";
import { t } from "../../src/i18n/index.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("en");
const LINKED: FakeUser = { id: 81_001, first_name: "Ivan", last_name: "Ivanov", username: "ivan" };
const UNLINKED: FakeUser = { id: 81_002, first_name: "Olga" };
const STRANGER: FakeUser = { id: 81_003, first_name: "Mallory" };
const GROUP = -6001;

type Button = { text: string; callback_data?: string };

function keyboardOf(h: TelegramHarness, chatId: number, messageId: number): Button[] {
  const m = h.fake.messages(chatId).find((x) => x.messageId === messageId);
  const markup = m?.replyMarkup as { inline_keyboard?: Button[][] } | undefined;
  return (markup?.inline_keyboard ?? []).flat();
}
function dataOf(h: TelegramHarness, chatId: number, messageId: number, label: string): string {
  const button = keyboardOf(h, chatId, messageId).find((b) => b.text.endsWith(label));
  if (!button?.callback_data) throw new Error(`no "${label}" button on message ${messageId} in ${chatId}`);
  return button.callback_data;
}
const lastText = (h: TelegramHarness, chatId: number) => h.textsIn(chatId).at(-1) ?? "";

describe("Take, Resolve, Close with a reason, races", () => {
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await startTelegramHarness({
      locale: "en",
      commandRateLimit: { limit: 1000, windowMs: 1000 },
      pressRateLimit: { limit: 1000, windowMs: 1000 },
    });
    const admin = h.admins[0]!;
    for (const u of [LINKED, UNLINKED])
      h.fake.addChat({ id: u.id, type: "private", first_name: u.first_name, username: u.username });
    h.fake.addChat({ id: GROUP, type: "supergroup", title: "SOC" });
    for (const id of [LINKED.id, UNLINKED.id, GROUP]) await h.say(admin, admin.id, `/accept ${id}`);
    h.emu.state.addUser({ userName: "ivanov", firstName: "Иван", lastName: "Иванов" });
    await h.say(admin, admin.id, `/link ${LINKED.id} IVANOV`);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("Take by a linked user: InProgress with a comment naming them, then the full-body PUT with their MP UUID", async () => {
    const inc = await h.deliverIncident([LINKED.id]);
    const msg = inc.messages.get(LINKED.id)!;
    expect(await h.press(LINKED, LINKED.id, msg, dataOf(h, LINKED.id, msg, "Take"))).toBe(
      tx.workflow.answers.taken("ivanov"),
    );
    const [transition] = h.emu.state.transitionsOf(inc.id);
    expect(transition).toMatchObject({ prevStatus: "New", nextStatus: "InProgress", via: "api" });
    expect(transition!.comment).toBe(tx.workflow.siemComment.takeMessage("@ivan (Ivan Ivanov, 81001)"));
    const puts = h.emu.state.updatesOf(inc.id);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ status: 204, error: null });
    expect((puts[0]!.body as { assigned: string }).assigned).toBe(userIdFor("ivanov"));
    const stored = await h.store.incidents.get(inc.id);
    expect(stored?.status).toBe("InProgress");
    expect(stored?.extras?.assignee).toEqual({ id: userIdFor("ivanov"), name: "Иван Иванов" });
    expect(stored?.botActions?.map((a) => [a.action, a.by])).toEqual([["take", "@ivan"]]);
    const audit = (await h.audit()).find((e) => e.action === "incident.take" && e.target === inc.id);
    expect(audit).toMatchObject({ result: "ok", actor_id: LINKED.id });
    expect(audit?.detail).toContain(userIdFor("ivanov"));
  });

  it("Take by a user who is not linked: InProgress without assignment, and the answer says to ask an admin", async () => {
    const inc = await h.deliverIncident([UNLINKED.id]);
    const msg = inc.messages.get(UNLINKED.id)!;
    const answer = await h.press(UNLINKED, UNLINKED.id, msg, dataOf(h, UNLINKED.id, msg, "Take"));
    expect(answer).toBe(tx.workflow.answers.takenNotLinked(UNLINKED.id));
    expect(answer).toContain(`/link ${UNLINKED.id}`);
    expect(h.emu.state.get(inc.id)?.status).toBe("InProgress");
    expect(h.emu.state.updatesOf(inc.id)).toEqual([]);
    expect(h.emu.state.get(inc.id)?.assigned).toBeNull();
  });

  it("Resolve from Approved writes Resolved with a comment naming the person", async () => {
    const inc = await h.deliverIncident([UNLINKED.id], { status: "Approved" });
    const msg = inc.messages.get(UNLINKED.id)!;
    expect(keyboardOf(h, UNLINKED.id, msg).map((b) => b.text)).toEqual([
      tx.workflow.buttons.take,
      tx.workflow.buttons.resolve,
      tx.buttons.close,
      tx.buttons.refresh,
    ]);
    expect(await h.press(UNLINKED, UNLINKED.id, msg, dataOf(h, UNLINKED.id, msg, "Resolve"))).toBe(
      tx.workflow.answers.resolved,
    );
    const [transition] = h.emu.state.transitionsOf(inc.id);
    expect(transition).toMatchObject({ prevStatus: "Approved", nextStatus: "Resolved" });
    expect(transition!.comment).toBe(tx.workflow.siemComment.resolveMessage("Olga (81002)"));
    expect(transition!.measures).toBe(tx.workflow.siemComment.resolveMeasures);
  });

  it.each([
    ["Yes, close", "false_positive"],
    ["Duplicate", "duplicate"],
    ["Test / authorised", "authorised"],
    ["Other", "other"],
  ] as const)(
    "Close → %s writes Closed with the reason and the person in the comment",
    async (label, reason) => {
      const inc = await h.deliverIncident([LINKED.id], { status: "InProgress" });
      const msg = inc.messages.get(LINKED.id)!;
      expect(await h.press(LINKED, LINKED.id, msg, dataOf(h, LINKED.id, msg, "Close"))).toBe(
        tx.workflow.confirmClose,
      );
      await h.until(() => keyboardOf(h, LINKED.id, msg)[0]?.text === tx.buttons.closeYes);
      expect(h.emu.state.get(inc.id)?.status).toBe("InProgress");
      expect(await h.press(LINKED, LINKED.id, msg, dataOf(h, LINKED.id, msg, label))).toBe(
        tx.workflow.answers.closed(reason),
      );
      const [transition] = h.emu.state.transitionsOf(inc.id);
      expect(transition).toMatchObject({ prevStatus: "InProgress", nextStatus: "Closed" });
      expect(transition!.comment).toBe(
        tx.workflow.siemComment.closeMessage("@ivan (Ivan Ivanov, 81001)", reason),
      );
      expect((await h.store.incidents.get(inc.id))?.botActions?.at(-1)).toMatchObject({
        action: "close",
        reason,
      });
    },
  );

  it("a stale reason under a confirmation, after the SIEM UI closed it: answered, and the pressed copy gets its buttons back", async () => {
    const inc = await h.deliverIncident([LINKED.id]);
    const msg = inc.messages.get(LINKED.id)!;
    await h.press(LINKED, LINKED.id, msg, dataOf(h, LINKED.id, msg, "Close"));
    await h.until(() => keyboardOf(h, LINKED.id, msg)[0]?.text === tx.buttons.closeYes);
    h.emu.state.setStatus(inc.id, "Closed", "closed in the UI");
    const answer = await h.press(LINKED, LINKED.id, msg, dataOf(h, LINKED.id, msg, "Duplicate"));
    expect(answer).toMatch(/^Not done: the incident is already Closed \(SIEM, \d\d:\d\d/);
    expect(h.emu.state.transitionsOf(inc.id).map((x) => x.via)).toEqual(["ui"]);
    await h.until(() => keyboardOf(h, LINKED.id, msg).length === 1);
    expect(keyboardOf(h, LINKED.id, msg).map((b) => b.text)).toEqual([tx.buttons.refresh]);
  });

  it("a forged reason without the confirmation only asks; nothing is closed", async () => {
    const inc = await h.deliverIncident([LINKED.id]);
    const msg = inc.messages.get(LINKED.id)!;
    const forged = `i:cd:${inc.id}`;
    expect(await h.press(LINKED, LINKED.id, msg, forged)).toBe(tx.workflow.confirmClose);
    expect(h.emu.state.transitionsOf(inc.id)).toEqual([]);
  });

  it("a press that came too late (the SIEM UI resolved it) is answered with who and when, and delivery is told; no transition is attempted", async () => {
    const inc = await h.deliverIncident([GROUP]);
    const msg = inc.messages.get(GROUP)!;
    h.emu.state.setStatus(inc.id, "Resolved", "done in the UI");
    const answer = await h.press(LINKED, GROUP, msg, dataOf(h, GROUP, msg, "Take"));
    expect(answer).toMatch(/^Not done: the incident is already Resolved \(SIEM, \d\d:\d\d/);
    expect(h.emu.state.transitionsOf(inc.id).map((x) => x.via)).toEqual(["ui"]);
    expect((await h.store.incidents.get(inc.id))?.status).toBe("Resolved");
    // The fresh read changed the store: delivery is told, and it edits every copy (test/integration/workflow).
    expect(h.changed).toContain(inc.id);
    expect((await h.audit()).find((e) => e.target === inc.id)?.result).toBe("already_changed");
  });

  it("a press after another bot user's change names that user", async () => {
    const inc = await h.deliverIncident([LINKED.id, UNLINKED.id]);
    const first = inc.messages.get(LINKED.id)!;
    const second = inc.messages.get(UNLINKED.id)!;
    const stale = dataOf(h, UNLINKED.id, second, "Approve");
    await h.press(LINKED, LINKED.id, first, dataOf(h, LINKED.id, first, "Take"));
    const answer = await h.press(UNLINKED, UNLINKED.id, second, stale);
    expect(answer).toMatch(/^Not done: the incident is already In progress \(@ivan, \d\d:\d\d/);
    expect(h.emu.state.transitionsOf(inc.id).map((x) => x.nextStatus)).toEqual(["InProgress"]);
  });

  it("a stranger's press is refused and no transition is attempted", async () => {
    const inc = await h.deliverIncident([GROUP]);
    const msg = inc.messages.get(GROUP)!;
    const before = h.emu.state.stats().requests["PUT /api/incidents/{id}/transitions"] ?? 0;
    for (const label of ["Take", "Approve", "Close"]) {
      expect(await h.press(STRANGER, GROUP, msg, dataOf(h, GROUP, msg, label))).toBe(tx.actions.notAllowed);
    }
    expect(h.emu.state.stats().requests["PUT /api/incidents/{id}/transitions"] ?? 0).toBe(before);
    expect(h.emu.state.updatesOf(inc.id)).toEqual([]);
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
  });
});

describe("/link, /unlink, /links", () => {
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await startTelegramHarness({
      locale: "en",
      commandRateLimit: { limit: 1000, windowMs: 1000 },
      pressRateLimit: { limit: 1000, windowMs: 1000 },
    });
    h.emu.state.addUser({ userName: "petrov" });
    h.fake.addChat({ id: UNLINKED.id, type: "private", first_name: UNLINKED.first_name });
    h.fake.addChat({ id: GROUP, type: "supergroup", title: "SOC" });
    await h.say(h.admins[0]!, h.admins[0]!.id, `/accept ${GROUP}`);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("links a user to an existing MP login, lists it, unlinks it; each change audited", async () => {
    const admin = h.admins[0]!;
    await h.say(admin, admin.id, `/link ${UNLINKED.id} petrov`);
    expect(lastText(h, admin.id)).toBe(
      tx.workflow.links.linked({ telegramId: UNLINKED.id, login: "petrov", replaced: null }),
    );
    expect(await h.store.userLinks.get(UNLINKED.id)).toMatchObject({
      mpLogin: "petrov",
      mpUserId: userIdFor("petrov"),
    });
    await h.say(admin, admin.id, "/links");
    expect(lastText(h, admin.id)).toContain(`${UNLINKED.id}`);
    expect(lastText(h, admin.id)).toContain("→ petrov — @admin1");
    await h.say(admin, admin.id, `/unlink ${UNLINKED.id}`);
    expect(lastText(h, admin.id)).toBe(tx.workflow.links.unlinked(UNLINKED.id, "petrov"));
    expect(await h.store.userLinks.get(UNLINKED.id)).toBeUndefined();
    await h.say(admin, admin.id, "/links");
    expect(lastText(h, admin.id)).toBe(tx.workflow.links.listEmpty);
    const audit = await h.audit();
    expect(audit.filter((e) => e.action === "command.link" && e.result === "ok")).toHaveLength(1);
    expect(audit.filter((e) => e.action === "command.unlink" && e.result === "ok")).toHaveLength(1);
  });

  it("names the problem: an unknown login (checked in MP), a bad id, a bad login, missing arguments", async () => {
    const admin = h.admins[0]!;
    await h.say(admin, admin.id, `/link ${UNLINKED.id} nosuchuser`);
    expect(lastText(h, admin.id)).toBe(tx.workflow.links.loginNotFound("nosuchuser"));
    expect(await h.store.userLinks.get(UNLINKED.id)).toBeUndefined();
    await h.say(admin, admin.id, "/link abc petrov");
    expect(lastText(h, admin.id)).toBe(tx.workflow.links.badTelegramId("abc"));
    await h.say(admin, admin.id, `/link ${UNLINKED.id} pe<tr>ov`);
    expect(lastText(h, admin.id)).toBe(tx.workflow.links.badLogin("pe<tr>ov"));
    await h.say(admin, admin.id, "/link");
    expect(lastText(h, admin.id)).toBe(tx.workflow.links.usageLink);
    await h.say(admin, admin.id, "/unlink 123 456");
    expect(lastText(h, admin.id)).toBe(tx.workflow.links.usageUnlink);
    await h.say(admin, admin.id, "/unlink 777");
    expect(lastText(h, admin.id)).toBe(tx.workflow.links.notLinked(777));
  });

  it("refuses a non-admin without a SIEM call, and answers an admin's list privately when typed in a group", async () => {
    const before = h.emu.state.stats().requests["POST /ptms/api/sso/v1/users/query"] ?? 0;
    await h.say(UNLINKED, GROUP, `/link ${UNLINKED.id} petrov`);
    expect(lastText(h, GROUP)).toBe(tx.commands.adminsOnly);
    expect(h.emu.state.stats().requests["POST /ptms/api/sso/v1/users/query"] ?? 0).toBe(before);
    expect(await h.store.userLinks.get(UNLINKED.id)).toBeUndefined();
    const admin = h.admins[0]!;
    await h.store.userLinks.link({
      telegramId: 5,
      mpLogin: "petrov",
      mpUserId: "x",
      telegramName: null,
      linkedBy: null,
      linkedByName: null,
    });
    const privateBefore = h.fake.messages(admin.id).length;
    await h.say(admin, GROUP, "/links");
    expect(lastText(h, GROUP)).toBe(tx.commands.answeredInPrivate);
    await h.fake.waitFor(() => h.fake.messages(admin.id).length > privateBefore, 5000);
    expect(lastText(h, admin.id)).toContain("→ petrov");
  });
});
