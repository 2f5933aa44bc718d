// Button presses are limited per person: over the limit a press is still answered (the client stops
// spinning) but not carried out, and the refusals are audited once per person per window, with a count.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("en");
const USER: FakeUser = { id: 81_001, first_name: "Ivan", username: "ivan" };
const OTHER: FakeUser = { id: 81_002, first_name: "Olga" };
const WINDOW_MS = 10_000;

let h: TelegramHarness;
let clock = Date.now();

beforeAll(async () => {
  h = await startTelegramHarness({
    locale: "en",
    commandRateLimit: { limit: 1000, windowMs: 1000 },
    pressRateLimit: { limit: 3, windowMs: WINDOW_MS },
    now: () => clock,
  });
  for (const u of [USER, OTHER]) {
    h.fake.addChat({ id: u.id, type: "private", first_name: u.first_name, username: u.username });
    await h.say(h.admins[0]!, h.admins[0]!.id, `/accept ${u.id}`);
  }
});
afterAll(async () => {
  await h?.close();
});

const refusals = async (userId: number) =>
  (await h.audit()).filter((e) => e.actor_id === userId && e.action === "button.rate_limited");

describe("button presses over the per-person limit", () => {
  it("are answered but not carried out; one audit row per person and window counts them", async () => {
    const inc = await h.deliverIncident([USER.id, OTHER.id]);
    const msg = inc.messages.get(USER.id)!;
    const refresh = `i:r:${inc.id}`;
    const readsBefore = h.emu.state.stats().requests;

    const answers: Array<string | undefined> = [];
    for (let i = 0; i < 8; i++) answers.push(await h.press(USER, USER.id, msg, refresh));
    expect(answers.slice(0, 3)).toEqual([tx.actions.refreshed, tx.actions.refreshed, tx.actions.refreshed]);
    expect(answers.slice(3)).toEqual(Array(5).fill(tx.actions.tooManyPresses));
    // Only the three allowed presses reached the SIEM or the per-press audit.
    const pressRows = (await h.audit()).filter(
      (e) => e.actor_id === USER.id && e.action === "incident.refresh",
    );
    expect(pressRows).toHaveLength(3);
    expect(JSON.stringify(h.emu.state.stats().requests)).not.toBe(JSON.stringify(readsBefore));

    // Somebody else is not held back by Ivan's flood.
    expect(await h.press(OTHER, OTHER.id, inc.messages.get(OTHER.id)!, refresh)).toBe(tx.actions.refreshed);

    // Forged presses count too, and are answered alike.
    expect(await h.press(USER, USER.id, msg, "garbage")).toBe(tx.actions.tooManyPresses);
    expect(await refusals(USER.id)).toEqual([]); // the window is still open: no row per press

    clock += WINDOW_MS + 1;
    expect(await h.press(USER, USER.id, msg, refresh)).toBe(tx.actions.refreshed);
    await h.until(async () => (await refusals(USER.id)).length > 0);
    const rows = await refusals(USER.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ result: "rate_limited", chat_id: USER.id, actor_name: "@ivan" });
    expect(rows[0]!.detail).toMatch(/^6 presses refused/);
    expect(await refusals(OTHER.id)).toEqual([]);
  });

  it("a window's refusals not yet audited are written when the bot stops", async () => {
    const inc = await h.deliverIncident([OTHER.id]);
    const msg = inc.messages.get(OTHER.id)!;
    clock += WINDOW_MS + 1;
    for (let i = 0; i < 5; i++) await h.press(OTHER, OTHER.id, msg, "forged");
    expect(await refusals(OTHER.id)).toEqual([]);
    await h.restart();
    const rows = await refusals(OTHER.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail).toMatch(/^2 presses refused/);
  });
});
