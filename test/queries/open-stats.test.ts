// /open, its ◀️ ▶️ pages, /stats and /audit against the emulator seeded with a realistic day and the fake
// Bot API over HTTP. Every expected figure is computed here from the day's plan, not by the bot's code.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DayPlan, type PlannedIncident, planDay, playDay } from "../../src/emulator/index.js";
import { OPEN_REQUEST_BUDGET } from "../../src/queries/open.js";
import { readStats, STATS_DEFAULT_BUDGET } from "../../src/queries/stats.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const END = Math.floor(Date.now() / 60_000) * 60_000;
const OPEN = ["New", "Approved", "InProgress"];

const finalStatus = (i: PlannedIncident) => i.transitions.at(-1)?.to ?? "New";
/** Nearest rank, written out again here: the k-th smallest with k = ceil(p·n). */
function rank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1]!;
}
function minutesText(ms: number): string {
  const m = Math.floor(ms / 60_000);
  const h = Math.floor(m / 60);
  return h > 0 ? `${h} ч${m % 60 > 0 ? ` ${m % 60} мин` : ""}` : `${m} мин`;
}

describe("questions to the bot on a realistic day", () => {
  let h: TelegramHarness;
  let plan: DayPlan;
  let keys: string[];
  const admin = () => h.admins[0]!;

  beforeAll(async () => {
    h = await startTelegramHarness({ now: () => END, commandRateLimit: { limit: 100, windowMs: 1000 } });
    plan = planDay({ seed: 1616, end: new Date(END) });
    keys = playDay(h.emu.state, plan);
  });
  afterAll(async () => {
    await h.close();
  });

  const openPlanned = () =>
    plan.incidents
      .map((incident, i) => ({ incident, key: keys[i]! }))
      .filter(({ incident }) => OPEN.includes(finalStatus(incident)))
      .reverse();

  it("/open: totals by status, the newest 10, ◀️ ▶️ edit the same message, 4 SIEM calls a page", async () => {
    const chat = admin().id;
    const open = openPlanned();
    const count = (s: string) => open.filter(({ incident }) => finalStatus(incident) === s).length;
    h.emu.state.resetStats();
    await h.say(admin(), chat, "/open");
    expect(h.emu.state.stats().requests["POST /api/v2/incidents"]).toBe(OPEN_REQUEST_BUDGET);
    const message = h.fake.messages(chat).at(-1)!;
    const pages = Math.ceil(open.length / 10);
    expect(message.plainText).toContain(`Открытые инциденты: ${open.length}`);
    expect(message.plainText).toContain(
      `Новый ${count("New")} · Подтверждён ${count("Approved")} · В работе ${count("InProgress")}`,
    );
    expect(message.plainText).toContain(`Страница 1 из ${pages}`);
    const lines = message.plainText.split("\n").filter((l) => l.includes("/inc_"));
    expect(lines.map((l) => /INC-\d+/.exec(l)![0])).toEqual(open.slice(0, 10).map((o) => o.key));
    expect(lines[0]).toMatch(/^[🔴🟠🟡] INC-\d+ \S+ — (Новый|Подтверждён|В работе), .+ назад \/inc_\d+$/u);
    const next = (
      message.replyMarkup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }
    ).inline_keyboard[0]!;
    expect(next.map((b) => b.text)).toEqual(["▶️"]);

    h.emu.state.resetStats();
    const messagesBefore = h.fake.messages(chat).length;
    await h.press(admin(), chat, message.messageId, next[0]!.callback_data);
    expect(h.emu.state.stats().requests["POST /api/v2/incidents"]).toBe(OPEN_REQUEST_BUDGET);
    const edited = h.fake.messages(chat).find((m) => m.messageId === message.messageId)!;
    expect(h.fake.messages(chat)).toHaveLength(messagesBefore); // no new message below
    expect(edited.edits).toBe(1);
    expect(edited.plainText).toContain(`Страница 2 из ${pages}`);
    const page2 = edited.plainText.split("\n").filter((l) => l.includes("/inc_"));
    expect(page2.map((l) => /INC-\d+/.exec(l)![0])).toEqual(open.slice(10, 20).map((o) => o.key));
    const buttons = (
      edited.replyMarkup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }
    ).inline_keyboard[0]!;
    expect(buttons.map((b) => b.text)).toEqual(["◀️", "▶️"]);
    await h.press(admin(), chat, message.messageId, buttons[0]!.callback_data);
    const back = h.fake.messages(chat).find((m) => m.messageId === message.messageId)!;
    expect(back.edits).toBe(2);
    expect(back.plainText).toContain(`Страница 1 из ${pages}`);
  });

  it("/open high: only High, with its own totals", async () => {
    const chat = admin().id;
    const high = openPlanned().filter(({ incident }) => incident.severity === "High");
    const before = h.fake.messages(chat).length;
    await h.say(admin(), chat, "/open high");
    expect(h.fake.messages(chat)).toHaveLength(before + 1);
    const text = h.fake.messages(chat).at(-1)!.plainText;
    expect(text).toContain(`Открытые инциденты (Высокая): ${high.length}`);
    const lines = text.split("\n").filter((l) => l.includes("/inc_"));
    expect(lines.map((l) => /INC-\d+/.exec(l)![0])).toEqual(high.slice(0, 10).map((o) => o.key));
    expect(lines.every((l) => l.startsWith("🔴"))).toBe(true);
    await h.say(admin(), chat, "/open urgent");
    expect(h.fake.messages(chat).at(-1)!.plainText).toContain("/open high");
  });

  it("readStats over the whole day (a budget that fits): counts, medians and p90 as computed from the plan", async () => {
    const bot = new Set<string>();
    h.emu.state.resetStats();
    const stats = await readStats(h.siem, {
      span: "24h",
      now: END,
      actedOnByBot: async () => bot,
      budget: { listPages: 5, histories: 300 },
    });
    expect(h.emu.state.stats().totalRequests).toBe(1 + 300);
    expect(stats.total).toBe(300);
    expect(stats.sampled).toBe(false);
    for (const severity of ["High", "Medium", "Low"])
      expect(stats.bySeverity[severity]).toBe(plan.incidents.filter((i) => i.severity === severity).length);
    for (const status of ["New", "Approved", "InProgress", "Resolved", "Closed"])
      expect(stats.byStatus[status] ?? 0).toBe(
        plan.incidents.filter((i) => finalStatus(i) === status).length,
      );
    const react = plan.incidents
      .filter((i) => i.transitions.length > 0)
      .map((i) => i.transitions[0]!.at.getTime() - i.created.getTime());
    const resolve = plan.incidents.flatMap((i) => {
      const done = i.transitions.find((t) => t.to === "Resolved" || t.to === "Closed");
      return done ? [done.at.getTime() - i.created.getTime()] : [];
    });
    expect(stats.react).toEqual({ count: react.length, medianMs: rank(react, 0.5), p90Ms: rank(react, 0.9) });
    expect(stats.resolve).toEqual({
      count: resolve.length,
      medianMs: rank(resolve, 0.5),
      p90Ms: rank(resolve, 0.9),
    });
  });

  it("/stats 24h: the sampled answer within its budget, each figure with its source, the bot's actions from the audit", async () => {
    const chat = admin().id;
    // The day's "through the API" changes stand for the bot: its audit log has them.
    const viaBot = plan.incidents
      .map((incident, i) => ({ incident, key: keys[i]! }))
      .filter(({ incident }) => incident.transitions.some((t) => t.via === "api"));
    for (const { key } of viaBot) {
      await h.store.audit.record({
        actorId: 555,
        actorName: "@duty",
        chatId: chat,
        action: "incident.approve",
        target: h.emu.state.get(key)!.id,
        result: "ok",
      });
    }
    h.emu.state.resetStats();
    await h.say(admin(), chat, "/stats");
    expect(h.emu.state.stats().totalRequests).toBeLessThanOrEqual(
      STATS_DEFAULT_BUDGET.listPages + STATS_DEFAULT_BUDGET.histories,
    );
    expect(h.emu.state.stats().requests["POST /api/v2/incidents"]).toBe(1);
    const text = h.fake.messages(chat).at(-1)!.plainText;
    // The sample: every third of the day, newest first (100 of 300).
    const sample = [...plan.incidents].reverse().filter((_, i) => i % 3 === 0);
    const react = sample
      .filter((i) => i.transitions.length > 0)
      .map((i) => i.transitions[0]!.at.getTime() - i.created.getTime());
    const botIds = new Set(viaBot.map(({ incident }) => incident));
    const onlyInSiem = sample.filter((i) => i.transitions.length > 0 && !botIds.has(i)).length;
    expect(text).toContain("Сводка за 24 часа");
    expect(text).toContain("Инцидентов создано: 300 — SIEM, список");
    expect(text).toContain(`Через бота: ${viaBot.length} инцидент`);
    expect(text).toContain("— журнал бота");
    expect(text).toContain(`Только в интерфейсе SIEM: ${onlyInSiem} из 100 — SIEM, история статусов`);
    expect(text).toContain(`${react.length} инцидент`);
    expect(text).toContain(`медиана ${minutesText(rank(react, 0.5))}`);
    expect(text).toContain("выборка: 100 из 300 инцидентов");
    await h.say(admin(), chat, "/stats 2w");
    expect(h.fake.messages(chat).at(-1)!.plainText).toContain("/stats 7d");
    if (process.env.SHOW_ANSWERS)
      console.log(
        `${h.fake.messages(chat).find((m) => m.plainText.includes("📂"))!.plainText}\n---\n${text}`,
      );
  });

  it("/audit: the latest actions through the bot, privately, for admins only", async () => {
    const group = -100777;
    h.fake.addChat({ id: group, type: "supergroup", title: "SOC" });
    const incident = h.emu.state.get(keys[5]!)!;
    await h.store.audit.record({
      actorId: 4242,
      actorName: "@petrov",
      chatId: group,
      action: "incident.close_yes",
      target: incident.id,
      result: "refused",
      detail: "already closed",
    });
    const before = h.fake.messages(admin().id).length;
    await h.say(admin(), group, "/audit 3");
    await h.fake.waitFor(() => h.fake.messages(admin().id).length > before);
    const text = h.fake.messages(admin().id).at(-1)!.plainText;
    if (process.env.SHOW_ANSWERS) console.log(text);
    const lines = text.split("\n");
    expect(lines[0]).toBe("🧾 Последние действия через бота: 3");
    expect(lines[2]).toMatch(/ · @petrov · close_yes · [0-9a-f-]{36} · refused \(already closed\)$/);
    expect(lines[3]).toContain(" · @duty · approve · ");
    expect(h.fake.messages(group).at(-1)!.plainText).not.toContain("@petrov");
    const stranger = { id: 31337, first_name: "Eve" };
    h.fake.addChat({ id: stranger.id, type: "private", first_name: "Eve" });
    await h.say(stranger, stranger.id, "/audit");
    expect(h.fake.messages(stranger.id).at(-1)!.plainText).not.toContain("@petrov");
  });

  it("/open and /report: refused to a stranger without asking the SIEM; /report on|off in an allowed group", async () => {
    const stranger = { id: 31338, first_name: "Mallory" };
    h.fake.addChat({ id: stranger.id, type: "private", first_name: "Mallory" });
    h.emu.state.resetStats();
    await h.say(stranger, stranger.id, "/open");
    await h.say(stranger, stranger.id, "/report on");
    expect(h.emu.state.stats().totalRequests).toBe(0);
    expect(h.fake.messages(stranger.id).every((m) => !m.plainText.includes("📂"))).toBe(true);
    expect(await h.store.reports.chats()).toEqual([]);
    // A forged page press (under the refusal, the only message the stranger has): answered, no SIEM call.
    const refusal = h.fake.messages(stranger.id).at(-1)!;
    const answer = await h.press(stranger, stranger.id, refusal.messageId, "o:1:a");
    expect(answer).toContain("/start");
    expect(h.emu.state.stats().totalRequests).toBe(0);
    expect(h.fake.messages(stranger.id).at(-1)!.edits).toBe(0);

    const group = -100888;
    h.fake.addChat({ id: group, type: "supergroup", title: "Duty" });
    await h.store.chats.ensure(group, "allowed", admin().id);
    const member = { id: 777, first_name: "Duty" };
    await h.say(member, group, "/report on");
    expect(h.fake.messages(group).at(-1)!.plainText).toContain("BOT_REPORT_AT");
    expect(await h.store.reports.chats()).toEqual([{ chatId: group, threadId: null }]);
    await h.say(member, group, "/report off");
    expect(h.fake.messages(group).at(-1)!.plainText).toBe("Готово: отчёт смены сюда больше не приходит.");
    expect(await h.store.reports.chats()).toEqual([]);
    await h.say(member, group, "/report");
    expect(h.fake.messages(group).at(-1)!.plainText).toContain("/report on");
    await h.say(member, group, "/open low");
    expect(h.fake.messages(group).at(-1)!.plainText).toContain("Открытые инциденты (Низкая)");
  });
});
