// Issue 13's routing world: 200 chats (four private to every group), each with its own filter (and a
// quarter with a silent rule), and a burst of 2,000 incidents. How long until every chat shows exactly
// what its filter admits, against the fastest delivery Telegram's limits allow for the messages that
// have to go out (counted from the filters: per chat, each High incident alone and the rest in full
// digests); what matching costs per (incident × chat) and against intake; and whether the silent rows
// went out silently.
//
// The product routes: every chat is a route in the service's YAML config file (`routes:` with its
// `filter` and `silent`), so the chats are allowed by the file, and `node dist/cli.js run` decides at
// intake with src/routing. What each chat must show is worked out here independently: every filter
// comes with a hand-written predicate of what it admits (design.md §3's semantics: `=` without case,
// `=~` anchored and without case), not with the product's parser. The matching cost comes from the
// service's /metrics (mpsiem_telegram_routing_seconds_total, ..._routing_decisions_total and
// ..._intake_seconds_total).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { EmulatorIncident } from "../../src/emulator/state.js";
import { fastestDeliverySeconds, messagesNeeded } from "../lib/stats.js";
import {
  type BenchChat,
  keysIn,
  manyChats,
  type ServiceProcess,
  sleep,
  World,
  waitUntil,
} from "../lib/world.js";
import { burstSeverities } from "./burst.js";

/** Issue 13: matching must add under this share to intake time. */
export const MATCHING_SHARE_LIMIT = 0.01;

type Incident = Pick<EmulatorIncident, "severity" | "category" | "name" | "type">;

const RANK: Readonly<Record<string, number>> = { low: 1, medium: 2, high: 3 };
/** Low 1, Medium 2, High 3; anything else none (a comparison on it never holds). */
const rank = (i: Incident): number | null => RANK[(i.severity ?? "").trim().toLowerCase()] ?? null;
const is = (value: string | null, wanted: string) => (value ?? "").toLowerCase() === wanted.toLowerCase();

/** A filter as the config file holds it, and what it admits, written out by hand. */
export interface BenchFilter {
  matchers: string;
  admits: (incident: Incident) => boolean;
}

/** One filter for every eighth chat. */
export const FILTERS: readonly BenchFilter[] = [
  { matchers: "", admits: () => true },
  { matchers: "severity>=medium", admits: (i) => (rank(i) ?? 0) >= 2 },
  { matchers: "severity>=high", admits: (i) => (rank(i) ?? 0) >= 3 },
  { matchers: "category=Attack", admits: (i) => is(i.category, "attack") },
  {
    matchers: "category!=Reconnaissance severity>=medium",
    admits: (i) => !is(i.category, "reconnaissance") && (rank(i) ?? 0) >= 2,
  },
  { matchers: 'name=~"(Malware|Suspicious)_.*"', admits: (i) => /^(malware|suspicious)_/i.test(i.name) },
  {
    matchers: 'name!~"Web_.*" severity<=medium',
    admits: (i) => !/^web_/i.test(i.name) && rank(i) !== null && rank(i)! <= 2,
  },
  { matchers: 'category="Credential access"', admits: (i) => is(i.category, "credential access") },
];
/** The silent rule of every fourth chat: Low arrives silently. */
export const SILENT_RULE: BenchFilter = {
  matchers: "severity<medium",
  admits: (i) => rank(i) !== null && rank(i)! < 2,
};

/** Each chat's rule: FILTERS round the chats, the silent rule on every fourth one. */
export function rulesFor(
  chats: readonly BenchChat[],
): Array<{ filter: BenchFilter; silent: BenchFilter | null }> {
  return chats.map((_, i) => ({
    filter: FILTERS[i % FILTERS.length]!,
    silent: i % 4 === 1 ? SILENT_RULE : null,
  }));
}

/** The service's config file: one route per chat (`chat`, and `filter` / `silent` when it has them). */
export function routesYaml(chats: readonly BenchChat[]): string {
  const rules = rulesFor(chats);
  return stringify({
    routes: chats.map((chat, i) => ({
      chat: String(chat.id),
      ...(rules[i]!.filter.matchers !== "" ? { filter: rules[i]!.filter.matchers } : {}),
      ...(rules[i]!.silent !== null ? { silent: rules[i]!.silent!.matchers } : {}),
    })),
  });
}

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
  /**
   * Matching in the service, from its /metrics, over the burst's intake (the polls from before the burst
   * to the one that queued it): routing decisions (incident × chat receiving) and the seconds they took
   * (the changed rules loaded once, then each incident decided); the ingest work (finding the new
   * incidents, reading a few, routing, the ingest transaction: mpsiem_telegram_intake_seconds_total);
   * and the whole intake, the polls themselves (the SIEM list calls too: mpsiem_poll_duration_seconds).
   */
  match: {
    /** false: the decisions did not all show within the wait (the figures are partial). */
    measured: boolean;
    decisions: number;
    routingSec: number;
    ingestSec: number;
    pollSec: number;
    polls: number;
    usPerPair: number | null;
    /** routingSec / ingestSec. */
    shareOfIngest: number | null;
    /** routingSec / pollSec: what matching adds to intake time (issue 13: under 1 %). */
    shareOfIntake: number | null;
  };
  tooManyRequests: number;
  duringRetryAfter: number;
  cpuSec: number | null;
  rssAfterBytes: number | null;
  peakRssBytes: number | null;
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
    // No approval and no store set-up: the chats are allowed by being in the file's routes.
    const configPath = join(world.dir, "routes.yaml");
    writeFileSync(configPath, routesYaml(chats));
    const service = await world.spawn({
      pollIntervalSec: 3,
      env: { MPSIEM_TELEGRAM_CONFIG: configPath },
    });
    if ((await world.waitFirstPoll()) === null)
      throw new Error("the service did not poll the SIEM within 30 s");
    await sleep(1_000);

    const firstCall = world.fake.calls.length;
    const cpuBefore = service.cpu();
    const intakeBefore = await intakeFigures(service);
    const burst = burstSeverities(opts.incidents, opts.highs).map((severity) =>
      world.emu.state.addIncident({ severity }),
    );
    const burstAt = Date.now();

    // What each chat must show, and which of it silently: the hand-written predicates of its rule.
    const owed = rules.map((rule) => burst.filter((inc) => rule.filter.admits(inc)).map((inc) => inc.key));
    const silentKeys = rules.map(
      (rule) =>
        new Set(
          burst
            .filter((inc) => rule.silent !== null && rule.filter.admits(inc) && rule.silent.admits(inc))
            .map((inc) => inc.key),
        ),
    );
    const highKeys = new Set(burst.filter((inc) => inc.severity === "High").map((inc) => inc.key));

    // The burst's intake: from before it to the end of the poll that queued it for every chat (every
    // (incident × chat) decided, then one more completed poll), so that idle polls do not dilute it.
    const decided = intakeBefore.decisions + burst.length * chats.length;
    let intakeAfter = intakeBefore;
    let pollsWhenDecided: number | null = null;
    const intakeDone = await waitAsync(async () => {
      intakeAfter = await intakeFigures(service);
      if (pollsWhenDecided === null && intakeAfter.decisions >= decided) pollsWhenDecided = intakeAfter.polls;
      return pollsWhenDecided !== null && intakeAfter.polls > pollsWhenDecided;
    }, opts.timeoutSec * 1000);
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
    const decisions = intakeAfter.decisions - intakeBefore.decisions;
    const routingSec = intakeAfter.routingSec - intakeBefore.routingSec;
    const ingestSec = intakeAfter.intakeSec - intakeBefore.intakeSec;
    const pollSec = intakeAfter.pollSec - intakeBefore.pollSec;
    const match: RoutingResult["match"] = {
      measured: intakeDone,
      decisions,
      routingSec,
      ingestSec,
      pollSec,
      polls: intakeAfter.polls - intakeBefore.polls,
      usPerPair: decisions > 0 ? (routingSec * 1e6) / decisions : null,
      shareOfIngest: ingestSec > 0 ? routingSec / ingestSec : null,
      shareOfIntake: pollSec > 0 ? routingSec / pollSec : null,
    };

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
            filter: filter.matchers,
            silent: silent?.matchers ?? null,
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
      match,
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

interface IntakeFigures {
  decisions: number;
  routingSec: number;
  intakeSec: number;
  pollSec: number;
  /** Completed polls (the poll duration histogram's count). */
  polls: number;
}

async function intakeFigures(service: ServiceProcess): Promise<IntakeFigures> {
  return {
    decisions: await service.metric("mpsiem_telegram_routing_decisions_total"),
    routingSec: await service.metric("mpsiem_telegram_routing_seconds_total"),
    intakeSec: await service.metric("mpsiem_telegram_intake_seconds_total"),
    pollSec: await service.metric("mpsiem_poll_duration_seconds_sum"),
    polls: await service.metric("mpsiem_poll_duration_seconds_count"),
  };
}

/** Polls an async `pred` every 200 ms until it holds (true) or `timeoutMs` passes (false). */
async function waitAsync(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(200);
  }
}
