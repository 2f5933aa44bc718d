// The decision at queue time: destinations tried in order (first match wins), silent by BOT_SILENT_BELOW,
// silent matchers, active hours and mutes; a mute or silent rule never drops a row.

import { describe, expect, it } from "vitest";
import {
  compileRules,
  FILTER_NONE,
  type RoutedChat,
  Router,
  type RoutingSettings,
  type StoredDestinationLike,
  type StoredMuteLike,
} from "../../src/routing/index.js";

const MONDAY_NOON_UTC = Date.parse("2024-03-04T12:00:00Z");
const SUNDAY_NIGHT_UTC = Date.parse("2024-03-03T02:00:00Z");
const settings: RoutingSettings = { silentBelow: null, timeZone: "UTC" };

const L1: RoutedChat = { id: -100001, thread_id: null };
const LEAD: RoutedChat = { id: 7001, thread_id: null };
const NET: RoutedChat = { id: -100002, thread_id: 3 };

const inc = (severity: string, type = "Network", name = "Port scan") => ({
  id: `${severity}-${type}-${name}`,
  severity,
  type,
  category: "Attack",
  name,
});

function dest(chatId: number, over: Partial<StoredDestinationLike> = {}): StoredDestinationLike {
  return {
    chatId,
    threadId: null,
    position: 0,
    filter: "",
    silent: "",
    activeHours: [],
    managedByConfig: false,
    ...over,
  };
}

function router(
  destinations: StoredDestinationLike[],
  mutes: StoredMuteLike[] = [],
  s: Partial<RoutingSettings> = {},
) {
  return new Router(compileRules({ destinations, mutes }), { ...settings, ...s });
}

describe("routing decision", () => {
  it("a chat without rules gets everything, loudly, in its own thread", () => {
    const route = router([]).at(MONDAY_NOON_UTC);
    expect(route(inc("Low"), [L1, NET])).toEqual([
      { chatId: L1.id, threadId: null, silent: false, muteId: null },
      { chatId: NET.id, threadId: null, silent: false, muteId: null },
    ]);
  });

  it("a filter keeps what it does not admit from that chat only", () => {
    const route = router([dest(LEAD.id, { filter: "severity>=high" })]).at(MONDAY_NOON_UTC);
    expect(route(inc("Medium"), [L1, LEAD]).map((d) => d.chatId)).toEqual([L1.id]);
    expect(route(inc("High"), [L1, LEAD]).map((d) => d.chatId)).toEqual([L1.id, LEAD.id]);
  });

  it("tries a chat's topics in order, first match wins, its own thread last", () => {
    const route = router([
      dest(NET.id, { threadId: 11, position: 0, filter: "type=Network severity>=medium" }),
      dest(NET.id, { threadId: 12, position: 1, filter: "type=Network" }),
      dest(NET.id, { threadId: null, position: 2, filter: FILTER_NONE }),
    ]).at(MONDAY_NOON_UTC);
    expect(route(inc("High"), [NET])).toEqual([
      { chatId: NET.id, threadId: 11, silent: false, muteId: null },
    ]);
    expect(route(inc("Low"), [NET])).toEqual([{ chatId: NET.id, threadId: 12, silent: false, muteId: null }]);
    expect(route(inc("High", "Host"), [NET])).toEqual([]);
    // Without `none` on its own thread, the rest goes there.
    const open = router([dest(NET.id, { threadId: 11, filter: "type=Network" })]).at(MONDAY_NOON_UTC);
    expect(open(inc("High", "Host"), [NET])).toEqual([
      { chatId: NET.id, threadId: null, silent: false, muteId: null },
    ]);
  });

  it("a chat managed by config gets exactly its listed routes, in order", () => {
    const route = router([
      dest(NET.id, { threadId: null, position: 0, filter: "severity>=high", managedByConfig: true }),
      dest(NET.id, { threadId: 5, position: 1, filter: "type=Network", managedByConfig: true }),
    ]).at(MONDAY_NOON_UTC);
    expect(route(inc("High"), [NET])[0]!.threadId).toBeNull();
    expect(route(inc("Low"), [NET])[0]!.threadId).toBe(5);
    expect(route(inc("Low", "Host"), [NET])).toEqual([]);
  });

  it("BOT_SILENT_BELOW makes lower severities (and unknown ones) silent everywhere", () => {
    const route = router([], [], { silentBelow: "high" }).at(MONDAY_NOON_UTC);
    expect(route(inc("High"), [L1])[0]!.silent).toBe(false);
    expect(route(inc("Medium"), [L1])[0]!.silent).toBe(true);
    expect(route(inc("Low"), [L1])[0]!.silent).toBe(true);
    expect(route(inc(""), [L1])[0]!.silent).toBe(true);
    const low = router([], [], { silentBelow: "low" }).at(MONDAY_NOON_UTC);
    expect(low(inc("Low"), [L1])[0]!.silent).toBe(false);
  });

  it("silent matchers and active hours make rows silent, never drop them", () => {
    const route = (at: number) =>
      router([
        dest(L1.id, { silent: "type=Scan" }),
        dest(LEAD.id, { activeHours: ["monday-friday 09:00-18:00"] }),
      ]).at(at);
    expect(route(MONDAY_NOON_UTC)(inc("High", "Scan"), [L1, LEAD])).toEqual([
      { chatId: L1.id, threadId: null, silent: true, muteId: null },
      { chatId: LEAD.id, threadId: null, silent: false, muteId: null },
    ]);
    expect(route(SUNDAY_NIGHT_UTC)(inc("High"), [L1, LEAD])).toEqual([
      { chatId: L1.id, threadId: null, silent: false, muteId: null },
      { chatId: LEAD.id, threadId: null, silent: true, muteId: null },
    ]);
  });

  it("a running mute makes matching rows silent and names itself; before and after it, sound", () => {
    const mutes: StoredMuteLike[] = [
      { id: 4, chatId: L1.id, threadId: null, matchers: "severity<=medium", startsAt: 1_000, endsAt: 2_000 },
      { id: 9, chatId: L1.id, threadId: null, matchers: "", startsAt: 1_500, endsAt: 3_000 },
    ];
    const r = router([], mutes);
    expect(r.at(999)(inc("Low"), [L1])[0]).toMatchObject({ silent: false, muteId: null });
    expect(r.at(1_000)(inc("Low"), [L1])[0]).toMatchObject({ silent: true, muteId: 4 });
    expect(r.at(1_000)(inc("High"), [L1])[0]).toMatchObject({ silent: false, muteId: null });
    // Both apply: the oldest names the row.
    expect(r.at(1_600)(inc("Low"), [L1])[0]).toMatchObject({ silent: true, muteId: 4 });
    expect(r.at(1_600)(inc("High"), [L1])[0]).toMatchObject({ silent: true, muteId: 9 });
    expect(r.at(3_000)(inc("Low"), [L1])[0]).toMatchObject({ silent: false, muteId: null });
    // Other chats are not muted.
    expect(r.at(1_600)(inc("Low"), [LEAD])[0]).toMatchObject({ silent: false, muteId: null });
  });

  it("a topic's mute applies to what goes into that topic only", () => {
    const r = router(
      [dest(NET.id, { threadId: 11, filter: "severity>=high" })],
      [{ id: 1, chatId: NET.id, threadId: 11, matchers: "", startsAt: 0, endsAt: 10_000 }],
    );
    expect(r.at(5)(inc("High"), [NET])[0]).toMatchObject({ threadId: 11, silent: true, muteId: 1 });
    expect(r.at(5)(inc("Low"), [NET])[0]).toMatchObject({ threadId: null, silent: false, muteId: null });
    // The chat's own thread (from /start in topic 3) is what a mute typed there covers.
    const own = router(
      [],
      [{ id: 2, chatId: NET.id, threadId: 3, matchers: "", startsAt: 0, endsAt: 10_000 }],
    );
    expect(own.at(5)(inc("Low"), [NET])[0]).toMatchObject({ threadId: null, silent: true, muteId: 2 });
  });

  it("in doubt (rule names unknown) a filter admits and a mute or silent rule does not apply", () => {
    const r = router(
      [dest(L1.id, { filter: "rule=Port_Scan", silent: "rule=Port_Scan" })],
      [{ id: 3, chatId: L1.id, threadId: null, matchers: "rule=Port_Scan", startsAt: 0, endsAt: 10 }],
    );
    const unknown = r.at(5)(inc("High"), [L1]);
    expect(unknown).toEqual([{ chatId: L1.id, threadId: null, silent: false, muteId: null }]);
    const known = r.at(5, () => ["Port_Scan"])(inc("High"), [L1]);
    expect(known).toEqual([{ chatId: L1.id, threadId: null, silent: true, muteId: 3 }]);
    expect(r.at(5, () => ["Other"])(inc("High"), [L1])).toEqual([]);
  });

  it("a stored rule that no longer parses is reported and read permissively", () => {
    const bad: Parameters<typeof compileRules>[1] = [];
    const rules = compileRules(
      {
        destinations: [dest(L1.id, { filter: "sev>=x" })],
        mutes: [{ id: 1, chatId: L1.id, threadId: null, matchers: "nonsense", startsAt: 0, endsAt: 10 }],
      },
      bad,
    );
    expect(bad.map((b) => b.what)).toEqual(["filter", "mute"]);
    const route = new Router(rules, settings).at(5);
    expect(route(inc("Low"), [L1])).toEqual([{ chatId: L1.id, threadId: null, silent: false, muteId: null }]);
  });

  it("chats with the same rules share one compiled list, and still each get their own mute and thread", () => {
    const A: RoutedChat = { id: 9001, thread_id: null };
    const B: RoutedChat = { id: 9002, thread_id: 5 };
    const C: RoutedChat = { id: 9003, thread_id: null };
    const rules = compileRules({
      destinations: [
        dest(A.id, { filter: "severity>=medium", silent: "severity=medium" }),
        dest(B.id, { filter: "severity>=medium", silent: "severity=medium" }),
        dest(C.id, { filter: "severity>=high" }),
      ],
      mutes: [
        { id: 41, chatId: B.id, threadId: null, matchers: "", startsAt: 0, endsAt: MONDAY_NOON_UTC + 1 },
      ],
    });
    expect(rules.destinations.get(A.id)).toBe(rules.destinations.get(B.id));
    expect(rules.destinations.get(C.id)).not.toBe(rules.destinations.get(A.id));
    const route = new Router(rules, settings).at(MONDAY_NOON_UTC);
    expect(route(inc("High"), [A, B, C])).toEqual([
      { chatId: A.id, threadId: null, silent: false, muteId: null },
      { chatId: B.id, threadId: null, silent: true, muteId: 41 },
      { chatId: C.id, threadId: null, silent: false, muteId: null },
    ]);
    expect(route(inc("Medium"), [A, B, C])).toEqual([
      { chatId: A.id, threadId: null, silent: true, muteId: null },
      { chatId: B.id, threadId: null, silent: true, muteId: 41 },
    ]);
    expect(route(inc("Low"), [A, B, C])).toEqual([]);
  });
});
