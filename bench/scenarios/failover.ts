// Failover: two instances of the service (`node dist/cli.js run`, BOT_INSTANCE_NAME a and b, the
// default BOT_LEASE_TTL) on one PostgreSQL database of a throw-away cluster, a steady stream of
// incidents to four private chats, and the leader killed with SIGKILL five times. The killed instance
// is started again as soon as the other leads, so two run at every kill. Each process reaches the fake
// Bot API through its own tagging proxy, so every message is known by the process that sent it.
// Per takeover: from the old leader's last message to the new leader's first (what the chats see),
// from the kill to that first message, and from the kill to the new leader's lease (its log line);
// then incidents lost, messages repeated per chat per takeover, and getUpdates 409s.
import { readFileSync } from "node:fs";
import { startPostgresCluster } from "../../test/helpers/postgres-keeper.js";
import { PROCESS_PARAM, startTaggingProxy, type TaggingProxy } from "../../test/helpers/tagging-proxy.js";
import { seededRandom, uniform } from "../lib/random.js";
import { type Summary, summarize } from "../lib/stats.js";
import { keysIn, manyChats, type ServiceProcess, sleep, World, waitUntil } from "../lib/world.js";

/** The service's default lease TTL, which the instances run with. */
export const FAILOVER_LEASE_TTL_SEC = 15;

export interface Takeover {
  /** The instance killed and the one that led next. */
  killed: string;
  next: string;
  /** The old leader's last message → the new leader's first, seconds. */
  gapSec: number;
  /** The kill → the new leader's first message, seconds. */
  killToFirstSec: number;
  /** The kill → "this instance leads now" in the new leader's log, seconds. */
  killToLeaseSec: number | null;
  /** Messages of this takeover that repeated an incident a chat had already seen, most in one chat. */
  repeatsMaxPerChat: number;
  repeats: number;
}

export interface FailoverResult {
  leaseTtlSec: number;
  chats: number;
  incidents: number;
  streamEveryMs: number;
  takeovers: Takeover[];
  gap: Summary;
  killToFirst: Summary;
  killToLease: Summary;
  /** (incident, chat) pairs never delivered. */
  lost: number;
  repeats: number;
  repeatsMaxPerChatPerTakeover: number;
  /** getUpdates answered 409 (another poller): Telegram's sign of two leaders polling. */
  conflicts: number;
  tooManyRequests: number;
  duringRetryAfter: number;
  clusterStartupSec: number;
  durationSec: number;
}

interface Instance {
  name: string;
  index: number;
  service: ServiceProcess;
  proxy: TaggingProxy;
}

interface Sent {
  at: number;
  chatId: number;
  keys: string[];
  process: number;
}

const LEADS_NOW = "this instance leads now";

async function roleOf(service: ServiceProcess): Promise<string | null> {
  try {
    const res = await fetch(`${service.httpUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return ((await res.json()) as { role?: string }).role ?? null;
  } catch {
    return null;
  }
}

/** When the process's log says it began leading, after `after` (ms). */
function leaseTakenAt(service: ServiceProcess, after: number): number | null {
  let text = "";
  try {
    text = readFileSync(service.logPath, "utf8");
  } catch {
    return null;
  }
  for (const line of text.split("\n")) {
    if (!line.includes(LEADS_NOW)) continue;
    try {
      const at = Date.parse((JSON.parse(line) as { time: string }).time);
      if (at >= after) return at;
    } catch {
      // a partial line
    }
  }
  return null;
}

export async function runFailover(opts: {
  kills: number;
  seed: number;
  /** One incident every this many ms, all along. */
  streamEveryMs: number;
}): Promise<FailoverResult> {
  const started = Date.now();
  const random = seededRandom(opts.seed);
  const cluster = await startPostgresCluster();
  const proxies: TaggingProxy[] = [];
  let world: World | null = null;
  let streaming = true;
  let stream: Promise<void> = Promise.resolve();
  try {
    const dbUrl = await cluster.createDatabase("failover");
    const chats = manyChats(4);
    world = await World.create({ name: "failover", seed: opts.seed, chats, dbUrl });
    const w = world;
    await w.allowChats();

    const sent: Sent[] = [];
    const chatIds = new Set(chats.map((c) => c.id));
    const unsubscribe = w.fake.onMessage((event) => {
      if (event.kind !== "sent" || !chatIds.has(event.message.chatId)) return;
      // The fake records a call and stores its message in one step: the last call is this message's.
      const call = w.fake.calls[w.fake.calls.length - 1];
      sent.push({
        at: Date.now(),
        chatId: event.message.chatId,
        keys: keysIn(event.message.plainText),
        process: Number(call?.params[PROCESS_PARAM] ?? -1),
      });
    });

    let processes = 0;
    const start = async (name: string): Promise<Instance> => {
      const index = processes++;
      const proxy = await startTaggingProxy(w.fake.apiRoot, index);
      proxies.push(proxy);
      const service = await w.spawn({
        pollIntervalSec: 1,
        apiRoot: proxy.apiRoot,
        env: { BOT_INSTANCE_NAME: name },
      });
      if (!(await waitUntil(() => service.running, 1_000))) throw new Error(`instance ${name} exited`);
      return { name, index, service, proxy };
    };
    const answering = async (instance: Instance) => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if ((await roleOf(instance.service)) !== null) return;
        await sleep(100);
      }
      throw new Error(`instance ${instance.name} did not answer /healthz within 30 s`);
    };
    const leaderOf = async (running: Instance[]): Promise<Instance | null> => {
      const roles = await Promise.all(running.map(async (i) => ({ i, role: await roleOf(i.service) })));
      const leaders = roles.filter((r) => r.role === "leader");
      return leaders.length === 1 ? leaders[0]!.i : null;
    };

    const a = await start("a");
    await answering(a);
    if ((await w.waitFirstPoll()) === null) throw new Error("instance a did not poll the SIEM within 30 s");
    const b = await start("b");
    await answering(b);
    let running: Instance[] = [a, b];

    const keys: string[] = [];
    stream = (async () => {
      while (streaming) {
        keys.push(w.addIncident().incident.key);
        await sleep(opts.streamEveryMs);
      }
    })();

    const kills: Array<{ at: number; killed: Instance; next: Instance; firstAt: number }> = [];
    for (let k = 0; k < opts.kills; k++) {
      // Both running, one leading, the stream flowing through it for a while.
      await sleep(uniform(random, 5_000, 8_000));
      let leader: Instance | null = null;
      const deadline = Date.now() + 30_000;
      while (leader === null && Date.now() < deadline) {
        leader = await leaderOf(running);
        if (leader === null) await sleep(100);
      }
      if (leader === null) throw new Error(`before kill ${k + 1}: not exactly one instance leads`);
      const killed: Instance = leader;
      const killAt = Date.now();
      killed.service.child.kill("SIGKILL");
      await killed.service.exited;
      running = running.filter((i) => i !== killed);
      // The new leader's first message to a chat.
      let first: Sent | undefined;
      const found = await waitUntil(
        () => {
          first = sent.find((m) => m.at >= killAt && m.process !== killed.index);
          return first !== undefined;
        },
        (FAILOVER_LEASE_TTL_SEC + 20) * 1000,
        10,
      );
      if (!found || first === undefined) throw new Error(`kill ${k + 1}: nobody sent within the TTL + 20 s`);
      const next = running.find((i) => i.index === first!.process);
      if (next === undefined) throw new Error(`kill ${k + 1}: a message from an unknown process`);
      kills.push({ at: killAt, killed, next, firstAt: first.at });
      // Started again at once now that the other leads: it stands by, and two run at the next kill.
      const again = await start(killed.name);
      await answering(again);
      running.push(again);
    }

    streaming = false;
    await stream;
    const allShown = await waitUntil(() => w.tracker.allVisible(keys), 180_000, 100);
    await sleep(3_000); // a repeat would show by now
    unsubscribe();

    let lost = 0;
    if (!allShown) for (const chat of chats) lost += keys.length - w.tracker.countIn(chat.id, keys);

    // Repeats: a message showing a key its chat had already seen, counted for the takeover it follows.
    const perTakeover = kills.map(() => new Map<number, number>());
    const seen = new Map<number, Set<string>>();
    let repeats = 0;
    for (const m of [...sent].sort((x, y) => x.at - y.at)) {
      const known = seen.get(m.chatId) ?? new Set<string>();
      seen.set(m.chatId, known);
      if (m.keys.some((key) => known.has(key))) {
        repeats++;
        const takeover = kills.findLastIndex((k) => k.at <= m.at);
        if (takeover >= 0) {
          const counts = perTakeover[takeover]!;
          counts.set(m.chatId, (counts.get(m.chatId) ?? 0) + 1);
        }
      }
      for (const key of m.keys) known.add(key);
    }

    const takeovers: Takeover[] = kills.map((k, i) => {
      const lastOld = sent.filter((m) => m.process === k.killed.index && m.at <= k.firstAt).at(-1);
      const lease = leaseTakenAt(k.next.service, k.at);
      const counts = [...perTakeover[i]!.values()];
      return {
        killed: k.killed.name,
        next: k.next.name,
        gapSec: lastOld === undefined ? Number.NaN : (k.firstAt - lastOld.at) / 1000,
        killToFirstSec: (k.firstAt - k.at) / 1000,
        killToLeaseSec: lease === null ? null : (lease - k.at) / 1000,
        repeatsMaxPerChat: Math.max(0, ...counts),
        repeats: counts.reduce((x, y) => x + y, 0),
      };
    });
    const stats = w.fake.stats();
    const conflicts = w.fake.calls.filter(
      (c) => c.method === "getUpdates" && (c.response as { error_code?: number } | null)?.error_code === 409,
    ).length;
    return {
      leaseTtlSec: FAILOVER_LEASE_TTL_SEC,
      chats: chats.length,
      incidents: keys.length,
      streamEveryMs: opts.streamEveryMs,
      takeovers,
      gap: summarize(takeovers.map((t) => t.gapSec)),
      killToFirst: summarize(takeovers.map((t) => t.killToFirstSec)),
      killToLease: summarize(takeovers.flatMap((t) => (t.killToLeaseSec === null ? [] : [t.killToLeaseSec]))),
      lost,
      repeats,
      repeatsMaxPerChatPerTakeover: Math.max(0, ...takeovers.map((t) => t.repeatsMaxPerChat)),
      conflicts,
      tooManyRequests: stats.tooManyRequests,
      duringRetryAfter: stats.duringRetryAfter,
      clusterStartupSec: cluster.startupMs / 1000,
      durationSec: (Date.now() - started) / 1000,
    };
  } finally {
    streaming = false;
    await stream.catch(() => undefined);
    await world?.close();
    await Promise.allSettled(proxies.map((p) => p.close()));
    await cluster.stop();
  }
}
