// A press that waited at Telegram while the bot was down (or could not reach Telegram) may be minutes
// old, and callback queries carry no time. The bot keeps the time of its last successful getUpdates;
// the presses in the first batch after a gap of more than 3 minutes are not carried out: the presser
// is answered and told in the chat why, and it is audited. A quick restart changes nothing.
// The bot's clock is injected: time moves only when the test moves it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("en");
const USER: FakeUser = { id: 83_001, first_name: "Ivan", username: "ivan" };
const MINUTE = 60_000;

let h: TelegramHarness;
let clock = Date.now();

beforeAll(async () => {
  h = await startTelegramHarness({
    locale: "en",
    commandRateLimit: { limit: 1000, windowMs: 1000 },
    now: () => clock,
  });
  h.fake.addChat({ id: USER.id, type: "private", first_name: USER.first_name, username: USER.username });
  await h.say(h.admins[0]!, h.admins[0]!.id, `/accept ${USER.id}`);
});
afterAll(async () => {
  await h?.close();
});

const approve = (id: string) => `i:a:${id}`;
const offlineAudit = async (incidentId: string) =>
  (await h.audit()).filter((e) => e.action === "button.offline" && e.target === incidentId);

describe("presses made while the bot was offline", () => {
  it("after a restart 10 minutes later: not carried out; answered, told in the chat, audited", async () => {
    const inc = await h.deliverIncident([USER.id]);
    const msg = inc.messages.get(USER.id)!;
    let pressId = "";
    await h.restart(() => {
      pressId = h.fake.pressButton(USER, USER.id, msg, approve(inc.id));
      clock += 10 * MINUTE;
    });
    const notice = tx.actions.offlinePressNotice({ who: "@ivan", downFor: "10m" });
    await h.fake.waitFor(() => h.textsIn(USER.id).includes(notice), 5000);
    await h.fake.waitFor(() => h.fake.answeredCallbacks().has(pressId), 5000);
    expect(h.fake.answeredCallbacks().get(pressId)?.text).toBe(tx.actions.offlinePress("10m"));
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
    expect(h.emu.state.transitionsOf(inc.id)).toEqual([]);
    const [row] = await offlineAudit(inc.id);
    expect(row).toMatchObject({ actor_id: USER.id, chat_id: USER.id, result: "not_done" });
    expect(row!.detail).toContain("offline 600 s");

    // The next press is in a normal batch: carried out.
    expect(await h.press(USER, USER.id, msg, approve(inc.id))).toBe(tx.actions.approved);
    expect(h.emu.state.get(inc.id)?.status).toBe("Approved");
  });

  it("after a quick restart (under 3 minutes): carried out as usual", async () => {
    const inc = await h.deliverIncident([USER.id]);
    const msg = inc.messages.get(USER.id)!;
    let pressId = "";
    await h.restart(() => {
      pressId = h.fake.pressButton(USER, USER.id, msg, approve(inc.id));
      clock += 2 * MINUTE;
    });
    await h.fake.waitFor(() => h.fake.answeredCallbacks().has(pressId), 5000);
    expect(h.fake.answeredCallbacks().get(pressId)?.text).toBe(tx.actions.approved);
    expect(h.emu.state.get(inc.id)?.status).toBe("Approved");
    expect(await offlineAudit(inc.id)).toEqual([]);
  });

  it("when Telegram could not be reached for minutes while the bot ran, and refuses the late answer", async () => {
    const inc = await h.deliverIncident([USER.id]);
    const msg = inc.messages.get(USER.id)!;
    const before = h.textsIn(USER.id).length;
    // The long poll hung for 5 minutes (by the bot's clock); Telegram no longer takes an answer to the press.
    clock += 5 * MINUTE;
    h.fake.failNext("answerCallbackQuery", {
      code: 400,
      description: "Bad Request: query is too old and response timeout expired or query ID is invalid",
    });
    h.fake.pressButton(USER, USER.id, msg, approve(inc.id));
    const notice = tx.actions.offlinePressNotice({ who: "@ivan", downFor: "5m" });
    await h.fake.waitFor(() => h.textsIn(USER.id).slice(before).includes(notice), 5000);
    expect(h.emu.state.get(inc.id)?.status).toBe("New");
    await h.until(async () => (await offlineAudit(inc.id)).length === 1);
  });
});
