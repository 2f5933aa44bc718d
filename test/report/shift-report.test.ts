// The daily shift report: at BOT_REPORT_AT (Europe/Moscow) once per opted-in chat and day, through the
// pacer to the fake Bot API over HTTP, with the figures of the seeded day; not before the hour, not twice,
// not after a restart, not twice with two instances on one database, and again after a passing failure.
import { Api } from "grammy";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeBotApi, startFakeBotApi } from "../../src/botapi-fake/index.js";
import type { Config } from "../../src/config/types.js";
import { Pacer, pacingTransformer } from "../../src/delivery/index.js";
import {
  type DayPlan,
  planDay,
  playDay,
  type RunningEmulator,
  startEmulator,
} from "../../src/emulator/index.js";
import { OPEN_REQUEST_BUDGET } from "../../src/queries/open.js";
import { STATS_DEFAULT_BUDGET } from "../../src/queries/stats.js";
import { ShiftReport } from "../../src/report/shift-report.js";
import { createSiemClient } from "../../src/siem/client.js";
import type { SiemClient } from "../../src/siem/types.js";
import { openStore, type Store } from "../../src/store/index.js";
import { createPostgresDatabase } from "../helpers/postgres.js";
import { tempDir } from "../helpers/tmp.js";

const TOKEN = "123456:REPORT-TOKEN";
/** 09:00 in Moscow on 10 March 2026 is 06:00 UTC. */
const NINE = Date.parse("2026-03-10T06:00:00.000Z");
const MINUTE = 60_000;
const GROUP = -100500;
const ADMIN = 9001;
const DENIED = -100600;

describe("the shift report", () => {
  const tmp = tempDir("mpsiem-report-");
  let fake: FakeBotApi;
  let emu: RunningEmulator;
  let siem: SiemClient;
  let plan: DayPlan;
  let keys: string[];
  let clock = NINE - MINUTE;
  const pacer = new Pacer();
  const stores: Store[] = [];
  const logger = pino({ level: "silent" });
  const config = {
    telegram: { botToken: TOKEN, adminIds: [ADMIN] },
    bot: { timeZone: "Europe/Moscow", locale: "ru", reportAt: "09:00" },
  } as unknown as Config;

  function api(): Api {
    const a = new Api(TOKEN, { apiRoot: fake.apiRoot });
    a.config.use(pacingTransformer(pacer));
    return a;
  }
  /** A fresh service on the same SQLite file (the one before it is stopped: the file has one process). */
  async function instance(): Promise<ShiftReport> {
    for (const s of stores.splice(0)) await s.close();
    const store = await openStore(`${tmp.dir}/bot.db`, { now: () => clock });
    stores.push(store);
    return new ShiftReport({ config, store: store.fenced(1), siem, api: api(), logger, now: () => clock });
  }
  const reports = (chatId: number) => fake.messages(chatId).filter((m) => m.plainText.startsWith("🌅"));

  beforeAll(async () => {
    fake = await startFakeBotApi({ token: TOKEN, limits: false });
    for (const id of [GROUP, DENIED]) fake.addChat({ id, type: "supergroup", title: `chat ${id}` });
    fake.addChat({ id: ADMIN, type: "private", first_name: "Admin" });
    emu = await startEmulator({ seed: 99 });
    plan = planDay({ seed: 99, end: new Date(NINE - 5 * MINUTE) });
    keys = playDay(emu.state, plan);
    siem = createSiemClient({
      config: {
        url: emu.coreUrl,
        authUrl: emu.authUrl,
        username: "siem",
        password: "siem",
        clientId: "mpx",
        clientSecret: "emulator-secret",
        tlsVerify: true,
        timeoutMs: 5000,
      },
      retry: { attempts: 1 },
    });
    const store = await openStore(`${tmp.dir}/bot.db`, { now: () => clock });
    await store.chats.ensure(GROUP, "allowed", ADMIN);
    await store.chats.ensure(DENIED, "denied", ADMIN);
    await store.reports.enable(GROUP, null, ADMIN);
    await store.reports.enable(ADMIN, null, ADMIN);
    await store.reports.enable(DENIED, null, ADMIN);
    await store.close();
  });
  afterAll(async () => {
    for (const s of stores) await s.close().catch(() => undefined);
    pacer.stop();
    await siem.close();
    await emu.close();
    await fake.close();
    tmp.cleanup();
  });

  it("waits for the hour, then sends once to each opted-in chat that may see incidents, within its SIEM budget", async () => {
    const report = await instance();
    clock = NINE - MINUTE;
    expect(await report.runOnce()).toBe(0);
    expect(reports(GROUP)).toHaveLength(0);

    clock = NINE;
    emu.state.resetStats();
    expect(await report.runOnce()).toBe(2);
    // The login the first call needs is the client's, not the report's.
    const calls = emu.state.stats().totalRequests - (emu.state.stats().requests["POST /connect/token"] ?? 0);
    expect(calls).toBeLessThanOrEqual(
      STATS_DEFAULT_BUDGET.listPages + STATS_DEFAULT_BUDGET.histories + OPEN_REQUEST_BUDGET,
    );
    expect(reports(GROUP)).toHaveLength(1);
    expect(reports(ADMIN)).toHaveLength(1);
    expect(reports(DENIED)).toHaveLength(0);
    const text = reports(GROUP)[0]!.plainText;
    const finalStatus = (i: (typeof plan.incidents)[number]) => i.transitions.at(-1)?.to ?? "New";
    const openHigh = plan.incidents
      .map((incident, i) => ({ incident, key: keys[i]! }))
      .filter(
        ({ incident }) =>
          incident.severity === "High" && ["New", "Approved", "InProgress"].includes(finalStatus(incident)),
      )
      .reverse();
    expect(text).toContain("🌅 Отчёт смены, 10.03.2026");
    expect(text).toContain("📊 Сводка за 24 часа");
    expect(text).toContain("Инцидентов создано: 300 — SIEM, список");
    expect(text).toContain(`🔴 Открытые инциденты высокой важности: ${openHigh.length}`);
    const lines = text.split("\n").filter((l) => l.includes("/inc_"));
    expect(lines.map((l) => /INC-\d+/.exec(l)![0])).toEqual(openHigh.slice(0, 10).map((o) => o.key));
    if (process.env.SHOW_ANSWERS) console.log(text);

    clock = NINE + 30 * MINUTE;
    expect(await report.runOnce()).toBe(0);
    await report.stop();
  });

  it("is not sent again after a restart the same day", async () => {
    const report = await instance();
    clock = NINE + 3 * 60 * MINUTE;
    expect(await report.runOnce()).toBe(0);
    expect(reports(GROUP)).toHaveLength(1);
  });

  it("a passing Telegram failure gives the claim back: the next look sends it, once", async () => {
    const report = await instance();
    clock = NINE + 24 * 60 * MINUTE;
    fake.failNext("sendMessage", { code: 502, description: "Bad Gateway" }, 1);
    const first = await report.runOnce();
    expect(first).toBe(1);
    const second = await report.runOnce();
    expect(second).toBe(1);
    expect(await report.runOnce()).toBe(0);
    expect(reports(GROUP)).toHaveLength(2);
    expect(reports(ADMIN)).toHaveLength(2);
    expect(reports(GROUP)[1]!.plainText).toContain("Отчёт смены, 11.03.2026");
  });

  it("two instances on one PostgreSQL database: only the leader's claims hold, once per chat", async () => {
    const database = await createPostgresDatabase();
    const opened: Store[] = [];
    try {
      const open = async () => {
        const store = await openStore(database.url, { now: () => clock });
        opened.push(store);
        return store;
      };
      const [a, b] = [await open(), await open()];
      await a.chats.ensure(GROUP, "allowed", ADMIN);
      await a.reports.enable(GROUP, null, ADMIN);
      await a.reports.enable(ADMIN, null, ADMIN);
      // A led first; B took over without A noticing yet (a pause): A's writes are fenced off.
      const epochA = await a.lease.takeAlone("a", 15_000);
      const epochB = await b.lease.takeAlone("b", 15_000);
      const make = (store: Store, epoch: number) =>
        new ShiftReport({ config, store: store.fenced(epoch), siem, api: api(), logger, now: () => clock });
      const [reportA, reportB] = [make(a, epochA), make(b, epochB)];
      clock = NINE + 48 * 60 * MINUTE;
      const sent = await Promise.all([reportA.runOnce(), reportB.runOnce()]);
      expect(sent).toEqual([0, 2]);
      expect(await reportA.runOnce()).toBe(0);
      expect(await reportB.runOnce()).toBe(0);
      expect(reports(GROUP)).toHaveLength(3);
      expect(reports(ADMIN)).toHaveLength(3);
      expect(reports(GROUP)[2]!.plainText).toContain("Отчёт смены, 12.03.2026");
    } finally {
      for (const s of opened) await s.close();
      await database.drop();
    }
  });
});
