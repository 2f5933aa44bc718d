// /filter, /mute, /unmute and the routing part of /accepted, typed by people over HTTP against the fake
// Bot API: who may, where each acts (a chat, a forum topic, a chat named by id), what is stored and
// audited, and what the answers say (a bad argument names what is wrong and changes nothing).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("en");
const r = tx.routing;
const ALICE: FakeUser = { id: 70_001, first_name: "Alice", username: "alice" };
const MEMBER: FakeUser = { id: 70_002, first_name: "Member" };
const GROUP = -7001;
const FORUM = -1_007_002;
const CONFIGURED = -7003;
const T0 = Date.parse("2024-03-04T09:00:00Z");

let h: TelegramHarness;
let admin: FakeUser;
let now = T0;

beforeAll(async () => {
  h = await startTelegramHarness({
    locale: "en",
    commandRateLimit: { limit: 1000, windowMs: 1000 },
    configure: (c) => {
      c.bot.timeZone = "UTC";
    },
    now: () => now,
  });
  admin = h.admins[0]!;
  for (const u of [ALICE, MEMBER]) h.fake.addChat({ id: u.id, type: "private", first_name: u.first_name });
  h.fake.addChat({ id: GROUP, type: "supergroup", title: "SOC L1" });
  h.fake.addChat({ id: FORUM, type: "supergroup", title: "Network team", is_forum: true });
  h.fake.addChat({ id: CONFIGURED, type: "supergroup", title: "Lead" });
  await h.say(admin, admin.id, `/accept ${ALICE.id}`);
  await h.say(admin, admin.id, `/accept${GROUP}`);
  await h.say(admin, admin.id, `/accept${FORUM}`);
  await h.store.routing.syncConfigRoutes([
    {
      chatId: CONFIGURED,
      threadId: null,
      filter: "severity>=high",
      silent: "",
      activeHours: ["mon-fri 09:00-18:00"],
    },
  ]);
});
afterAll(async () => {
  await h?.close();
});

const last = (chatId: number) => h.textsIn(chatId).at(-1) ?? "";
const rulesSnapshot = async () =>
  JSON.stringify(
    [await h.store.routing.allDestinations(), await h.store.routing.allActiveMutes(now)].map((m) => [...m]),
  );

describe("/filter", () => {
  it("sets, shows and clears a chat's filter where it is typed, audited", async () => {
    await h.say(admin, GROUP, "/filter");
    expect(last(GROUP)).toBe(r.filterShow({ chat: null, managedByConfig: false, destinations: [] }));
    await h.say(admin, GROUP, "/filter Severity>=HIGH  type=Network");
    expect(last(GROUP)).toBe("This chat now receives: severity>=high type=Network.");
    expect((await h.store.routing.destinationsOf(GROUP)).map((d) => [d.threadId, d.filter])).toEqual([
      [null, "severity>=high type=Network"],
    ]);
    await h.say(admin, GROUP, "/filter");
    expect(last(GROUP)).toBe("This chat receives:\n• severity>=high type=Network");
    await h.say(admin, GROUP, "/filter off");
    expect(last(GROUP)).toBe("This chat receives everything again.");
    expect(await h.store.routing.destinationsOf(GROUP)).toEqual([]);
    await h.say(admin, GROUP, "/filter off");
    expect(last(GROUP)).toBe("This chat has no filter: it receives everything.");
    const audit = (await h.audit()).filter((e) => e.action.startsWith("routing.filter"));
    expect(audit.map((e) => [e.action, e.result, e.target, e.actor_id])).toEqual(
      expect.arrayContaining([
        ["routing.filter", "ok", String(GROUP), admin.id],
        ["routing.filter_off", "ok", String(GROUP), admin.id],
        ["routing.filter_off", "nothing_set", String(GROUP), admin.id],
      ]),
    );
  });

  it("refuses a malformed matcher with a reply naming it, and changes nothing", async () => {
    await h.say(admin, GROUP, "/filter severity>=high");
    const before = await rulesSnapshot();
    for (const [text, matcher] of [
      ["/filter severity>=high sev=low", "sev=low"],
      ["/filter severity>=urgent", "severity>=urgent"],
      ['/filter name="unclosed', 'name="unclosed'],
      ["/filter name=~(a+)+", "name=~(a+)+"],
      ["/filter type>=Network", "type>=Network"],
    ] as const) {
      await h.say(admin, GROUP, text);
      expect(last(GROUP), text).toMatch(
        new RegExp(
          `^Matcher “${matcher.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}”: .+\\. Nothing was changed\\.$`,
        ),
      );
    }
    expect(await rulesSnapshot()).toBe(before);
    await h.say(admin, GROUP, "/filter off");
  });

  it("typed in a forum topic makes that topic a destination; `none` in the main thread keeps the rest out", async () => {
    await h.say(admin, FORUM, "/filter type=Network", { threadId: 11 });
    expect(last(FORUM)).toMatch(/^Topic 11 of this chat now receives: type=Network\./);
    await h.say(admin, FORUM, '/filter type=~"Firewall|VPN"', { threadId: 12 });
    await h.say(admin, FORUM, "/filter none");
    expect(
      (await h.store.routing.destinationsOf(FORUM)).map((d) => [d.threadId, d.position, d.filter]),
    ).toEqual([
      [11, 0, "type=Network"],
      [12, 1, "type=~Firewall|VPN"],
      [null, 2, "none"],
    ]);
    await h.say(admin, FORUM, "/filter", { threadId: 11 });
    expect(last(FORUM)).toBe(
      "This chat receives (tried in this order):\n• topic 11: type=Network\n• topic 12: type=~Firewall|VPN\n• its own thread: nothing",
    );
    // Off in a topic: the topic is no longer a destination.
    await h.say(admin, FORUM, "/filter off", { threadId: 12 });
    expect((await h.store.routing.destinationsOf(FORUM)).map((d) => d.threadId)).toEqual([11, null]);
  });

  it("with a chat id acts on that chat and answers the admin privately", async () => {
    await h.say(admin, admin.id, `/filter${ALICE.id} severity>=medium`);
    expect(last(admin.id)).toMatch(/now receives: severity>=medium\.$/);
    expect(last(admin.id)).toContain(`id ${ALICE.id}`);
    expect((await h.store.routing.destinationsOf(ALICE.id)).map((d) => d.filter)).toEqual([
      "severity>=medium",
    ]);
    // Typed in a group with another chat's id: the group hears only that it is done.
    await h.say(admin, GROUP, `/filter ${ALICE.id} off`);
    expect(last(GROUP)).toBe(tx.commands.doneAnsweredInPrivate);
    expect(last(admin.id)).toMatch(/receives everything again\.$/);
  });

  it("refuses chats that do not receive, and anyone but an admin", async () => {
    await h.say(admin, admin.id, "/filter -999 severity>=high");
    expect(last(admin.id)).toBe(r.notReceiving("-999"));
    await h.say(ALICE, ALICE.id, "/filter severity>=high");
    expect(last(ALICE.id)).toBe(tx.commands.adminsOnly);
    expect(await h.store.routing.destinationsOf(ALICE.id)).toEqual([]);
  });

  it("a chat managed by config shows its routes and refuses /filter with a clear answer", async () => {
    await h.say(admin, admin.id, `/filter ${CONFIGURED}`);
    expect(last(admin.id)).toContain("receives:\n• severity>=high; with sound only mon-fri 09:00-18:00");
    expect(last(admin.id)).toContain("Managed by config");
    await h.say(admin, admin.id, `/filter ${CONFIGURED} severity>=low`);
    expect(last(admin.id)).toMatch(
      /is managed by config: its routes come from the config file \(routes:\) and cannot be changed from Telegram\.$/,
    );
    await h.say(admin, admin.id, `/filter ${CONFIGURED} off`);
    expect(last(admin.id)).toMatch(/is managed by config/);
    expect((await h.store.routing.destinationsOf(CONFIGURED)).map((d) => d.filter)).toEqual([
      "severity>=high",
    ]);
  });
});

describe("commands typed one after another", () => {
  it("take effect in the order they were typed, even when they arrive together", async () => {
    // A chat's messages come in one batch (a restart, a takeover replaying them); the last word counts.
    const sequence = [
      `/filter${GROUP} severity>=high`,
      `/filter${GROUP} off`,
      `/filter${GROUP} category=Malware`,
      `/filter${GROUP} off`,
      `/filter${GROUP} type=Network name=~"^Web_"`,
    ];
    for (let round = 0; round < 3; round++) {
      const before = h.fake.messages(admin.id).length;
      for (const text of sequence) h.fake.sendText(admin, admin.id, text);
      await h.fake.waitFor(() => h.fake.messages(admin.id).length >= before + sequence.length, 10_000);
      expect((await h.store.routing.destinationsOf(GROUP)).map((d) => d.filter)).toEqual([
        "type=Network name=~^Web_",
      ]);
      const answers = h.fake
        .messages(admin.id)
        .slice(before)
        .map((m) => m.plainText);
      expect(answers.map((a) => (/everything again|no filter/.test(a) ? "off" : "set"))).toEqual([
        "set",
        "off",
        "set",
        "off",
        "set",
      ]);
    }
    await h.say(admin, admin.id, `/filter${GROUP} off`);
  });
});

describe("/mute and /unmute", () => {
  it("an admin mutes a chat for a while; /mute lists it with who and until when; /unmute ends it", async () => {
    now = T0;
    await h.say(admin, GROUP, "/mute 1h severity<=medium -- maintenance window");
    expect(last(GROUP)).toBe(
      "🔕 This chat is muted until 10:00 (1h) for: severity<=medium. Incidents still arrive, without sound. /unmute ends it. Comment: maintenance window",
    );
    const running = await h.store.routing.activeMutes(GROUP, now);
    expect(
      running.map((m) => [m.matchers, m.endsAt - m.startsAt, m.createdBy, m.createdByName, m.comment]),
    ).toEqual([["severity<=medium", 3_600_000, admin.id, "@admin1", "maintenance window"]]);
    await h.say(admin, GROUP, "/mute");
    expect(last(GROUP)).toBe(
      "Mutes running in this chat:\n• until 10:00: severity<=medium — set by @admin1 (maintenance window)\n/unmute ends them all.",
    );
    await h.say(admin, GROUP, "/unmute");
    expect(last(GROUP)).toBe("🔔 1 mute ended in this chat: incidents arrive with sound again.");
    expect(await h.store.routing.activeMutes(GROUP, now)).toEqual([]);
    await h.say(admin, GROUP, "/unmute");
    expect(last(GROUP)).toBe("No mutes are running in this chat.");
    const audit = (await h.audit()).filter(
      (e) => e.action === "routing.mute" || e.action === "routing.unmute",
    );
    expect(audit.map((e) => [e.action, e.result])).toEqual(
      expect.arrayContaining([
        ["routing.mute", "ok"],
        ["routing.unmute", "ok"],
        ["routing.unmute", "none_running"],
      ]),
    );
  });

  it("a person mutes their own private chat, and only that", async () => {
    await h.say(ALICE, ALICE.id, "/mute 30m");
    expect(last(ALICE.id)).toMatch(/^🔕 This chat is muted until 09:30 \(30m\)\./);
    await h.say(ALICE, GROUP, "/mute 30m");
    expect(last(GROUP)).toBe(r.muteNotAllowed);
    await h.say(ALICE, ALICE.id, `/mute ${GROUP} 30m`);
    expect(last(ALICE.id)).toBe(r.muteNotAllowed);
    await h.say(MEMBER, MEMBER.id, "/mute 30m");
    expect(last(MEMBER.id)).toBe(r.muteNotAllowed);
    expect((await h.store.routing.activeMutes(ALICE.id, now)).length).toBe(1);
    expect(await h.store.routing.activeMutes(GROUP, now)).toEqual([]);
    await h.say(ALICE, ALICE.id, "/unmute");
    expect(last(ALICE.id)).toMatch(/^🔔 1 mute ended/);
  });

  it("refuses a bad duration or matcher, naming it, and changes nothing", async () => {
    const before = await rulesSnapshot();
    await h.say(admin, GROUP, "/mute 8d");
    expect(last(GROUP)).toMatch(/^“8d” is not a duration like 30m, 2h or 1d \(at most 7d\)\./);
    await h.say(admin, GROUP, "/mute soon");
    expect(last(GROUP)).toMatch(/^“soon” is not a duration/);
    await h.say(admin, GROUP, "/mute 0m");
    expect(last(GROUP)).toMatch(/^“0m” is not a duration/);
    await h.say(admin, GROUP, "/mute 2h sev<=low");
    expect(last(GROUP)).toMatch(/^Matcher “sev<=low”: unknown field "sev"/);
    expect(await rulesSnapshot()).toBe(before);
  });

  it("typed in a forum topic mutes that topic only", async () => {
    await h.say(admin, FORUM, "/mute 2h", { threadId: 11 });
    expect(last(FORUM)).toMatch(/^🔕 This chat, topic 11, is muted until 11:00/);
    expect((await h.store.routing.activeMutes(FORUM, now)).map((m) => m.threadId)).toEqual([11]);
    await h.say(admin, FORUM, "/unmute");
  });

  it("/accepted shows each chat's filter, its mute and whether config manages it", async () => {
    await h.say(admin, GROUP, "/filter severity>=high");
    await h.say(admin, GROUP, "/mute 1h");
    await h.say(admin, admin.id, "/accepted");
    const text = last(admin.id);
    const lineAfter = (needle: string) => {
      const lines = text.split("\n");
      const i = lines.findIndex((l) => l.includes(needle));
      return lines[i + 1] ?? "";
    };
    expect(lineAfter(`id ${GROUP}`)).toBe("   receives: severity>=high; muted until 10:00");
    expect(lineAfter(`id ${FORUM}`)).toBe("   receives: topic 11: type=Network | its own thread: nothing");
    expect(lineAfter(`id ${CONFIGURED}`)).toBe(
      "   receives: severity>=high; with sound only mon-fri 09:00-18:00; managed by config",
    );
    await h.say(admin, GROUP, "/unmute");
    await h.say(admin, GROUP, "/filter off");
  });
});
