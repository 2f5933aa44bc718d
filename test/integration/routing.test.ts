// Routing and noise control end to end (issue 13, design.md §3): the whole service in this process against
// the MP SIEM emulator and the fake Bot API over loopback HTTP, on SQLite and on PostgreSQL. People type
// /filter, /mute and /unmute into the fake; incidents appear in the emulator; what each chat got, into
// which topic and with or without sound (`disable_notification`), is read from the fake's record of the
// calls. One clock, shifted by the tests, drives the emulator and the service alike (mutes that end by
// time, active hours); nothing sleeps for it.
//
// Not here, because it is shown elsewhere against the emulator over HTTP: a High incident inside a
// 300-incident burst arriving as its own card before the digests (test/delivery/lanes.test.ts), the config
// file's routes allowing chats that never sent /start (test/integration/config-routes.test.ts).
import { afterEach, describe, expect, it } from "vitest";
import type { FakeUser, RecordedCall } from "../../src/botapi-fake/index.js";
import type { BotConfig, RouteConfig } from "../../src/config/types.js";
import { MUTE_SUMMARY_SETTLE_MS } from "../../src/delivery/mute-summary.js";
import { t } from "../../src/i18n/index.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";
import {
  ADMIN,
  firstPollDone,
  GROUP_CHAT,
  PRIVATE_CHAT,
  type RunningService,
  SCALED_FAKE_LIMITS,
  SCALED_PACER_LIMITS,
  SCALED_TUNING,
  sleep,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

const en = t("en").routing;
const MINUTE = 60_000;
/** A supergroup with topics, and a channel only the config file names. */
const FORUM = -1_002_000_000_001;
const TOPIC = { high: 101, network: 102, rest: 103 } as const;
const CHANNEL = -1_003_000_000_001;

describe.each(DIALECTS)("%s: routing and noise control, end to end", (dialect) => {
  const database = databasePerTest(dialect);
  let world: World | undefined;
  /** The shared clock: real time plus an offset the tests move forward. */
  let offset = 0;
  const now = () => Date.now() + offset;

  afterEach(async () => {
    await world?.close();
    world = undefined;
    offset = 0;
  });

  async function begin(): Promise<World> {
    world = await startWorld({
      fakeLimits: SCALED_FAKE_LIMITS,
      emulator: { now: () => new Date(now()) },
      ...(dialect === "postgres" ? { dbUrl: database.target } : {}),
    });
    world.fake.addChat({ id: FORUM, type: "supergroup", title: "SOC topics", is_forum: true });
    world.fake.addChat({ id: CHANNEL, type: "channel", title: "SOC lead" });
    return world;
  }

  async function start(
    w: World,
    opts: { bot?: Partial<BotConfig>; routes?: RouteConfig[] } = {},
  ): Promise<RunningService> {
    const running = await w.startInProcess({
      now,
      pacerLimits: SCALED_PACER_LIMITS,
      deliveryTuning: { ...SCALED_TUNING, idleIntervalMs: 100 },
      bot: { timeZone: "UTC", ...opts.bot },
      ...(opts.routes ? { routes: opts.routes } : {}),
    });
    await firstPollDone(running);
    return running;
  }

  /** Someone types a command; resolves once the bot answered in `replyIn` with text containing `answer`. */
  async function say(
    w: World,
    from: FakeUser,
    chatId: number,
    text: string,
    answer: string | RegExp,
    opts: { threadId?: number; replyIn?: number } = {},
  ): Promise<string> {
    const replyIn = opts.replyIn ?? chatId;
    const before = w.fake.messages(replyIn).length;
    w.fake.sendText(from, chatId, text, opts.threadId === undefined ? {} : { threadId: opts.threadId });
    const matches = (s: string) => (typeof answer === "string" ? s.includes(answer) : answer.test(s));
    let found = "";
    await waitUntil(
      `the answer to ${text}`,
      () => {
        const reply = w.fake
          .messages(replyIn)
          .slice(before)
          .find((m) => matches(m.plainText));
        found = reply?.plainText ?? "";
        return reply !== undefined;
      },
      10_000,
      {
        pollMs: 50,
        detail: () =>
          `got: ${JSON.stringify(
            w.fake
              .messages(replyIn)
              .slice(before)
              .map((m) => m.plainText),
          )}`,
      },
    );
    return found;
  }

  /** The successful sendMessage call that showed `key` in a chat (undefined: the chat never got it). */
  function sendOf(w: World, chatId: number, key: string): RecordedCall | undefined {
    return w.fake.calls.find(
      (c) =>
        c.method === "sendMessage" &&
        Number(c.params.chat_id) === chatId &&
        String(c.params.text ?? "").includes(key) &&
        (c.response as { ok?: boolean } | undefined)?.ok === true,
    );
  }
  const silent = (w: World, chatId: number, key: string) =>
    sendOf(w, chatId, key)?.params.disable_notification === true;
  const cardOf = (w: World, chatId: number, key: string) =>
    w.incidentMessages(chatId).find((m) => m.plainText.includes(key))?.plainText ?? "";
  const summaries = (w: World, chatId: number) =>
    w.fake.messages(chatId).filter((m) => m.plainText.startsWith("🔔 The mute is over"));

  function incident(w: World, severity: string, extra: { type?: string } = {}): string {
    return w.emu.state.addIncident({ severity, eventsCount: 1, ...extra }).key;
  }

  /**
   * Waits until the service has sent everything queued: every chat's lane idle and a last look after
   * `settleMs` (what could still go out wrongly would have by then).
   */
  async function settled(running: RunningService, settleMs = 300): Promise<void> {
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    await sleep(settleMs);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
  }

  it("a chat filtering severity>=high gets only High while the others get everything; a bad matcher is refused; /filter off restores everything", async () => {
    const w = await begin();
    await w.allowInStore();
    const running = await start(w);
    await say(w, ADMIN, GROUP_CHAT, "/filter severity>=high", "This chat now receives: severity>=high.");

    const low = incident(w, "Low");
    const medium = incident(w, "Medium");
    const high = incident(w, "High");
    await waitForKeys(w, [PRIVATE_CHAT], [low, medium, high], 20_000);
    await waitForKeys(w, [GROUP_CHAT], [high], 20_000);
    await settled(running);
    expect(w.tally(GROUP_CHAT, [high]).unexpected).toEqual([]);
    expect(w.tally(PRIVATE_CHAT, [low, medium, high]).unexpected).toEqual([]);

    // A malformed matcher: the reply names it, and the filter stays as it was.
    const refusal = await say(w, ADMIN, GROUP_CHAT, "/filter severity>=urgent", "Nothing was changed.");
    expect(refusal).toContain("severity>=urgent");
    const lowAgain = incident(w, "Low");
    await waitForKeys(w, [PRIVATE_CHAT], [lowAgain], 20_000);
    await settled(running);
    expect(sendOf(w, GROUP_CHAT, lowAgain)).toBeUndefined();

    await say(w, ADMIN, GROUP_CHAT, "/filter off", "This chat receives everything again.");
    const later = [incident(w, "Low"), incident(w, "Medium"), incident(w, "High")];
    await waitForKeys(w, [PRIVATE_CHAT, GROUP_CHAT], later, 20_000);
  });

  it("/mute 1h delivers silently with 🔕 in that chat only; /unmute restores sound and the chat gets one summary line with the count", async () => {
    const w = await begin();
    await w.allowInStore();
    const running = await start(w);
    await say(w, ADMIN, GROUP_CHAT, "/mute 1h", "🔕");

    const muted = [incident(w, "High"), incident(w, "Low")];
    await waitForKeys(w, [PRIVATE_CHAT, GROUP_CHAT], muted, 20_000);
    for (const key of muted) {
      expect(silent(w, GROUP_CHAT, key), key).toBe(true);
      expect(cardOf(w, GROUP_CHAT, key)).toContain("🔕");
      expect(silent(w, PRIVATE_CHAT, key), key).toBe(false);
      expect(cardOf(w, PRIVATE_CHAT, key)).not.toContain("🔕");
    }
    // Still muted after half an hour; nothing says it is over.
    offset += 30 * MINUTE;
    const stillMuted = incident(w, "Medium");
    await waitForKeys(w, [GROUP_CHAT], [stillMuted], 20_000);
    expect(silent(w, GROUP_CHAT, stillMuted)).toBe(true);
    await settled(running);
    expect(summaries(w, GROUP_CHAT)).toEqual([]);

    await say(w, ADMIN, GROUP_CHAT, "/unmute", "incidents arrive with sound again");
    offset += MUTE_SUMMARY_SETTLE_MS;
    await waitUntil("the summary line", () => summaries(w, GROUP_CHAT).length > 0, 10_000, { pollMs: 50 });
    const loud = incident(w, "Low");
    await waitForKeys(w, [GROUP_CHAT], [loud], 20_000);
    expect(silent(w, GROUP_CHAT, loud)).toBe(false);
    expect(cardOf(w, GROUP_CHAT, loud)).not.toContain("🔕");
    await settled(running, 1_000);

    expect(summaries(w, GROUP_CHAT).map((m) => m.plainText)).toEqual([en.muteEnded(3)]);
    expect(en.muteEnded(3)).toBe("🔔 The mute is over: 3 incidents arrived silently during it.");
    // The line comes after the incidents it counts, and it does not ring.
    const line = summaries(w, GROUP_CHAT)[0]!;
    expect(line.messageId).toBeGreaterThan(
      w.incidentMessages(GROUP_CHAT).find((m) => m.plainText.includes(stillMuted))!.messageId,
    );
    const lineCall = w.fake.calls.find(
      (c) => c.method === "sendMessage" && String(c.params.text ?? "").startsWith("🔔 The mute is over"),
    );
    expect(lineCall?.params.disable_notification).toBe(true);
    expect(summaries(w, PRIVATE_CHAT)).toEqual([]);
  });

  it("a mute that ends by time gives exactly one summary line, never two, also after a restart on the same database; Russian by default", async () => {
    const w = await begin();
    await w.allowInStore();
    let running = await start(w, { bot: { locale: "ru" } });
    await say(w, ADMIN, GROUP_CHAT, "/mute 30m", "🔕");
    const muted = incident(w, "Low");
    await waitForKeys(w, [GROUP_CHAT], [muted], 20_000);
    expect(silent(w, GROUP_CHAT, muted)).toBe(true);
    const ru = (chatId: number) =>
      w.fake.messages(chatId).filter((m) => m.plainText.startsWith("🔔 Тишина закончилась"));
    await settled(running);
    expect(ru(GROUP_CHAT)).toEqual([]);

    // Time passes: the mute is over without anyone typing.
    offset += 31 * MINUTE;
    await waitUntil("the summary line", () => ru(GROUP_CHAT).length > 0, 10_000, { pollMs: 50 });
    const loud = incident(w, "Low");
    await waitForKeys(w, [GROUP_CHAT], [loud], 20_000);
    expect(silent(w, GROUP_CHAT, loud)).toBe(false);
    await settled(running, 1_000);
    expect(ru(GROUP_CHAT).map((m) => m.plainText)).toEqual([
      "🔔 Тишина закончилась: за это время без звука пришёл 1 инцидент.",
    ]);

    await running.stop();
    running = await start(w, { bot: { locale: "ru" } });
    offset += 5 * MINUTE;
    const afterRestart = incident(w, "High");
    await waitForKeys(w, [GROUP_CHAT], [afterRestart], 20_000);
    await settled(running, 1_000);
    expect(ru(GROUP_CHAT)).toHaveLength(1);
  });

  it("a mute that ends while the service is stopped gets its one line after the restart", async () => {
    const w = await begin();
    await w.allowInStore();
    let running = await start(w);
    await say(w, ADMIN, GROUP_CHAT, "/mute 10m", "🔕");
    const muted = [incident(w, "Low"), incident(w, "Medium")];
    await waitForKeys(w, [GROUP_CHAT], muted, 20_000);
    await settled(running);
    await running.stop();

    offset += 11 * MINUTE;
    running = await start(w);
    await waitUntil("the summary line", () => summaries(w, GROUP_CHAT).length > 0, 10_000, { pollMs: 50 });
    await settled(running, 1_000);
    expect(summaries(w, GROUP_CHAT).map((m) => m.plainText)).toEqual([en.muteEnded(2)]);
  });

  it("BOT_SILENT_BELOW=high makes Low and Medium silent, High loud, in every chat", async () => {
    const w = await begin();
    await w.allowInStore();
    await start(w, { bot: { silentBelow: "high" } });
    const [low, medium, high] = [incident(w, "Low"), incident(w, "Medium"), incident(w, "High")];
    await waitForKeys(w, [PRIVATE_CHAT, GROUP_CHAT], [low, medium, high], 20_000);
    for (const chatId of [PRIVATE_CHAT, GROUP_CHAT]) {
      expect([silent(w, chatId, low), silent(w, chatId, medium), silent(w, chatId, high)]).toEqual([
        true,
        true,
        false,
      ]);
      expect(cardOf(w, chatId, low)).toContain("🔕");
      expect(cardOf(w, chatId, high)).not.toContain("🔕");
    }
  });

  it("a config route's active hours switch sound off outside them; its chat never sent /start and refuses /filter", async () => {
    const w = await begin();
    // Saturday 2030-03-09 10:00 UTC: outside mon-fri 09:00-18:00.
    offset = Date.parse("2030-03-09T10:00:00Z") - Date.now();
    const routes: RouteConfig[] = [
      { chatId: CHANNEL, topic: null, filter: "", silent: "", activeHours: ["mon-fri 09:00-18:00"] },
    ];
    const running = await start(w, { routes });
    const weekend = incident(w, "High");
    await waitForKeys(w, [CHANNEL], [weekend], 20_000);
    expect(silent(w, CHANNEL, weekend)).toBe(true);
    expect(cardOf(w, CHANNEL, weekend)).toContain("🔕");

    // Monday 10:00: inside.
    offset = Date.parse("2030-03-11T10:00:00Z") - Date.now();
    const monday = incident(w, "High");
    await waitForKeys(w, [CHANNEL], [monday], 20_000);
    expect(silent(w, CHANNEL, monday)).toBe(false);
    // Monday 19:00: outside again.
    offset = Date.parse("2030-03-11T19:00:00Z") - Date.now();
    const evening = incident(w, "Low");
    await waitForKeys(w, [CHANNEL], [evening], 20_000);
    expect(silent(w, CHANNEL, evening)).toBe(true);

    // Nobody ever wrote in the channel (no /start, no Allow); /filter on it is refused, and its route stays
    // as the file says.
    const refusal = await say(w, ADMIN, ADMIN.id, `/filter${CHANNEL} severity>=high`, "managed by config");
    expect(refusal).toContain("cannot be changed from Telegram");
    expect((await running.service.parts.store.routing.destinationsOf(CHANNEL)).map((d) => d.filter)).toEqual([
      "",
    ]);
    const low = incident(w, "Low");
    await waitForKeys(w, [CHANNEL], [low], 20_000);
  });

  it("topic filters route each incident into the right forum topic: High, Network, everything else", async () => {
    const w = await begin();
    await w.allowInStore([FORUM]);
    const running = await start(w);
    await say(w, ADMIN, FORUM, "/filter severity>=high", "now receives", { threadId: TOPIC.high });
    await say(w, ADMIN, FORUM, "/filter type=Network", "now receives", { threadId: TOPIC.network });
    await say(w, ADMIN, FORUM, "/filter severity>=low", "now receives", { threadId: TOPIC.rest });
    expect(
      (await running.service.parts.store.routing.destinationsOf(FORUM)).map((d) => [d.threadId, d.filter]),
    ).toEqual([
      [TOPIC.high, "severity>=high"],
      [TOPIC.network, "type=Network"],
      [TOPIC.rest, "severity>=low"],
    ]);

    const highNetwork = incident(w, "High", { type: "Network" });
    const network = incident(w, "Medium", { type: "Network" });
    const host = incident(w, "Low", { type: "Host" });
    await waitForKeys(w, [FORUM], [highNetwork, network, host], 20_000);
    await settled(running);
    const threadOf = (key: string) => sendOf(w, FORUM, key)?.params.message_thread_id;
    // First topic that admits wins: the High network incident goes to "High" only.
    expect([threadOf(highNetwork), threadOf(network), threadOf(host)]).toEqual([
      TOPIC.high,
      TOPIC.network,
      TOPIC.rest,
    ]);
    expect(w.tally(FORUM, [highNetwork, network, host]).repeated).toEqual([]);
  });
});
