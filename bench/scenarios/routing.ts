// Issue 13's routing world: 200 chats (four private to every group), each with its own filter (and a
// quarter with a silent rule), and a burst of 2,000 incidents. How long until every chat shows exactly
// what its filter admits, against the fastest delivery Telegram's limits allow for the messages that
// have to go out (counted from the filters: per chat, each High incident alone and the rest in full
// digests); what matching costs per (incident × chat); and whether the silent rows went out silently.
//
// The filters are MATCHERS strings of design.md §3, applied by the benchmark's own stand-in
// (bench/lib/route-filters.mjs, through bench/lib/routed-service.mjs) until the routing branch is
// merged. To use routing's own engine then: write RULES into the service's YAML `routes:` (one entry
// per chat: filter, silent) in `spawnRouted`, start `dist/cli.js run`, and read the matching time from
// its metrics (or leave inService null): nothing else here changes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ChatRule, matches, parseMatchers, routeFromRules } from "../lib/route-filters.mjs";
import { fastestDeliverySeconds, messagesNeeded } from "../lib/stats.js";
import { type BenchChat, keysIn, manyChats, REPO, sleep, World, waitUntil } from "../lib/world.js";
import { burstSeverities } from "./burst.js";

/** One filter (and silent rule) for every eighth chat; the silent rule for every fourth one. */
export const FILTERS: readonly string[] = [
  "",
  "severity>=medium",
  "severity>=high",
  "category=Attack",
  "category!=Reconnaissance severity>=medium",
  'name=~"^(Malware|Suspicious)_"',
  'name!~"^Web_" severity<=medium',
  'category="Credential access"',
];
export const SILENT_RULE = "severity<medium";

export interface RoutingFilterRow {
  filter: string;
  silent: string | null;
  chats: number;
  /** Incidents each of these chats receives. */
  admitted: number;
  /** Of which arrive silently. */
  silentRows: number;
}

export interface RoutingResult {
  chats: number;
  groups: number;
  incidents: number;
  highs: number;
  filters: RoutingFilterRow[];
  /** (incident, chat) pairs the filters admit; of which silent. */
  deliveries: number;
  silentDeliveries: number;
  /** Seconds until every chat showed all it admits; null when not within the wait. */
  completeSec: number | null;
  timeoutSec: number;
  /** sendMessage calls Telegram accepted (incident messages). */
  messages: number;
  /** The most incidents one message held. */
  maxPerMessage: number;
  /** Per chat: highs + ⌈rest / k⌉, summed over the chats. */
  neededMessages: number;
  boundNeededSec: number;
  boundSentSec: number;
  ratio: number | null;
  /** Keys shown in a chat whose filter does not admit them (must be 0). */
  wrongChat: number;
  /** Admitted (incident, chat) pairs never shown. */
  missing: number;
  repeats: number;
  /** High incidents that shared a message, or came after a digest in their chat (must be 0). */
  highsNotAlone: number;
  highsAfterDigest: number;
  /** Messages whose disable_notification disagrees with their rows (silent iff every row is). */
  silentWrong: number;
  silentMessages: number;
  /** Matching cost: in the service (each route call timed), and the same route run here warm. */
  match: {
    inService: { incidents: number; pairs: number; usPerPair: number; msTotal: number } | null;
    inBench: { pairs: number; usPerPair: number };
  };
  tooManyRequests: number;
  duringRetryAfter: number;
  cpuSec: number | null;
  rssAfterBytes: number | null;
  peakRssBytes: number | null;
}

/** Each chat's rule: FILTERS round the chats, the silent rule on every fourth one. */
export function rulesFor(chats: readonly BenchChat[]): Record<string, ChatRule> {
  return Object.fromEntries(
    chats.map((chat, i) => [
      String(chat.id),
      { filter: FILTERS[i % FILTERS.length]!, ...(i % 4 === 1 ? { silent: SILENT_RULE } : {}) },
    ]),
  );
}

export async function runRouting(opts: {
  chats: number;
  incidents: number;
  highs: number;
  seed: number;
  timeoutSec: number;
}): Promise<RoutingResult> {
  const chats = manyChats(opts.chats);
  const rules = rulesFor(chats);
  const world = await World.create({ name: "routing", seed: opts.seed, chats });
  try {
    await world.allowChats();
    const statsPath = join(world.dir, "route-stats.json");
    const service = await world.spawn({
      pollIntervalSec: 3,
      command: [join(REPO, "bench", "lib", "routed-service.mjs")],
      env: { BENCH_ROUTES: JSON.stringify(rules), BENCH_ROUTE_STATS: statsPath },
    });
    if ((await world.waitFirstPoll()) === null)
      throw new Error("the service did not poll the SIEM within 30 s");
    await sleep(1_000);

    const firstCall = world.fake.calls.length;
    const cpuBefore = service.cpu();
    const burst = burstSeverities(opts.incidents, opts.highs).map((severity) =>
      world.emu.state.addIncident({ severity }),
    );
    const burstAt = Date.now();

    // What each chat must show, and which of it silently, by the same filters the service applies.
    const parsed = chats.map((chat) => {
      const rule = rules[String(chat.id)]!;
      return { filter: parseMatchers(rule.filter), silent: rule.silent ? parseMatchers(rule.silent) : null };
    });
    const owed = chats.map((_, i) =>
      burst.filter((inc) => matches(parsed[i]!.filter, inc)).map((inc) => inc.key),
    );
    const silentKeys = chats.map(
      (_, i) =>
        new Set(
          burst
            .filter(
              (inc) =>
                parsed[i]!.silent !== null &&
                matches(parsed[i]!.filter, inc) &&
                matches(parsed[i]!.silent!, inc),
            )
            .map((inc) => inc.key),
        ),
    );
    const highKeys = new Set(burst.filter((inc) => inc.severity === "High").map((inc) => inc.key));

    const complete = await waitUntil(
      () => chats.every((chat, i) => world.tracker.countIn(chat.id, owed[i]!) === owed[i]!.length),
      opts.timeoutSec * 1000,
      100,
    );
    const cpuAfter = service.cpu();
    // Anything still on its way to a chat that should not get it would show in the next moment.
    await sleep(2_000);

    const calls = world.fake.calls.slice(firstCall);
    const okSend = calls.filter(
      (c) => c.method === "sendMessage" && (c.response as { ok?: boolean } | null)?.ok === true,
    );
    let wrongChat = 0;
    let missing = 0;
    let highsNotAlone = 0;
    let highsAfterDigest = 0;
    let last = burstAt;
    const loads: Array<{ group: boolean; messages: number }> = [];
    const sentLoads: Array<{ group: boolean; messages: number }> = [];
    for (const [i, chat] of chats.entries()) {
      const admitted = new Set(owed[i]);
      let digestSeen = false;
      for (const message of world.fake.messages(chat.id)) {
        const keys = keysIn(message.plainText);
        if (keys.length > 1) digestSeen = true;
        for (const key of keys) {
          if (!admitted.has(key)) wrongChat++;
          if (highKeys.has(key)) {
            if (keys.length > 1) highsNotAlone++;
            if (digestSeen) highsAfterDigest++;
          }
        }
      }
      for (const key of owed[i]!) {
        const at = world.tracker.seenAt(chat.id, key);
        if (at === undefined) missing++;
        else last = Math.max(last, at);
      }
      sentLoads.push({
        group: chat.kind !== "private",
        messages: okSend.filter((c) => Number(c.params.chat_id) === chat.id).length,
      });
    }
    const k = world.tracker.maxKeysPerMessage;
    for (const [i, chat] of chats.entries()) {
      const highs = owed[i]!.filter((key) => highKeys.has(key)).length;
      loads.push({
        group: chat.kind !== "private",
        messages: highs + messagesNeeded(owed[i]!.length - highs, k),
      });
    }

    // Silent iff every row of the message is silent in its chat.
    let silentWrong = 0;
    let silentMessages = 0;
    for (const call of okSend) {
      const i = chats.findIndex((c) => c.id === Number(call.params.chat_id));
      if (i < 0) continue;
      const keys = keysIn(String(call.params.text ?? ""));
      if (keys.length === 0) continue;
      const shouldBeSilent = keys.every((key) => silentKeys[i]!.has(key));
      const wasSilent = call.params.disable_notification === true;
      if (wasSilent) silentMessages++;
      if (shouldBeSilent !== wasSilent) silentWrong++;
    }

    const boundNeededSec = fastestDeliverySeconds(loads);
    const completeSec = complete ? (last - burstAt) / 1000 : null;
    let inService: RoutingResult["match"]["inService"] = null;
    try {
      const s = JSON.parse(readFileSync(statsPath, "utf8")) as {
        incidents: number;
        pairs: number;
        ns: number;
      };
      inService = { ...s, usPerPair: s.ns / 1000 / Math.max(1, s.pairs), msTotal: s.ns / 1e6 };
    } catch {
      inService = null;
    }

    return {
      chats: chats.length,
      groups: chats.filter((c) => c.kind !== "private").length,
      incidents: burst.length,
      highs: highKeys.size,
      filters: FILTERS.flatMap((filter, f) =>
        [null, SILENT_RULE].map((silent) => {
          const members = chats
            .map((_, i) => i)
            .filter((i) => i % FILTERS.length === f && (i % 4 === 1) === (silent !== null));
          const first = members[0];
          return {
            filter,
            silent,
            chats: members.length,
            admitted: first === undefined ? 0 : owed[first]!.length,
            silentRows: first === undefined ? 0 : silentKeys[first]!.size,
          };
        }),
      ).filter((row) => row.chats > 0),
      deliveries: owed.reduce((sum, keys) => sum + keys.length, 0),
      silentDeliveries: silentKeys.reduce((sum, keys) => sum + keys.size, 0),
      completeSec,
      timeoutSec: opts.timeoutSec,
      messages: okSend.filter((c) => keysIn(String(c.params.text ?? "")).length > 0).length,
      maxPerMessage: k,
      neededMessages: loads.reduce((sum, l) => sum + l.messages, 0),
      boundNeededSec,
      boundSentSec: fastestDeliverySeconds(sentLoads),
      ratio: completeSec !== null && boundNeededSec > 0 ? completeSec / boundNeededSec : null,
      wrongChat,
      missing,
      repeats: chats.reduce((sum, chat) => sum + (world.tracker.repeats.get(chat.id) ?? 0), 0),
      highsNotAlone,
      highsAfterDigest,
      silentWrong,
      silentMessages,
      match: { inService, inBench: matchCost(rules, chats, burst) },
      tooManyRequests: calls.filter((c) => (c.response as { error_code?: number } | null)?.error_code === 429)
        .length,
      duringRetryAfter: calls.filter((c) => c.duringRetryAfter).length,
      cpuSec: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null,
      rssAfterBytes: service.rss(),
      peakRssBytes: service.peakRss(),
    };
  } finally {
    await world.close();
  }
}

/** The same route over every (incident × chat) pair of the burst, here, warm: µs per pair. */
function matchCost(
  rules: Record<string, ChatRule>,
  chats: readonly BenchChat[],
  incidents: ReadonlyArray<{
    severity: string | null;
    category: string | null;
    name: string;
    type: string | null;
  }>,
): { pairs: number; usPerPair: number } {
  const route = routeFromRules(rules);
  const recipients = chats.map((c) => ({ id: c.id }) as Parameters<typeof route>[1][number]);
  const asListed = incidents.map(
    (inc) => ({ ...inc, severity: inc.severity ?? "" }) as Parameters<typeof route>[0],
  );
  for (const inc of asListed.slice(0, 100)) route(inc, recipients); // warm-up
  const rounds = 3;
  const started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const inc of asListed) route(inc, recipients);
  const ns = Number(process.hrtime.bigint() - started);
  const pairs = rounds * asListed.length * recipients.length;
  return { pairs, usPerPair: ns / 1000 / pairs };
}
