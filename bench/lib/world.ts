// One benchmark world: the MP SIEM emulator and the fake Telegram Bot API (with Telegram's limits)
// in this process, a fresh SQLite file (or a fresh PostgreSQL database), and the real service as a
// child process (`node dist/cli.js run`), so its memory and CPU are its own and read from /proc.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type FakeBotApi,
  type FakeMessageEvent,
  type FakeUser,
  startFakeBotApi,
} from "../../src/botapi-fake/index.js";
import {
  type EmulatorIncident,
  type IncidentInput,
  type RunningEmulator,
  startEmulator,
} from "../../src/emulator/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { cpuSeconds, peakRssBytes, rssBytes } from "./proc.js";

export const REPO = resolve(import.meta.dirname, "../..");
export const CLI_PATH = join(REPO, "dist", "cli.js");
/** The only admin (TELEGRAM_ADMIN_IDS); presses buttons in the action benchmark. */
export const ADMIN: FakeUser = { id: 9001, username: "soc_lead", first_name: "Sasha" };
export const LIST_ROUTE = "POST /api/v2/incidents";

export interface BenchChat {
  id: number;
  kind: "private" | "supergroup";
  label: string;
}

/** One private chat and two groups: the set-up the issue asks for. */
export function standardChats(): BenchChat[] {
  return [
    { id: 4242, kind: "private", label: "private" },
    { id: -1001000000001, kind: "supergroup", label: "group A" },
    { id: -1001000000002, kind: "supergroup", label: "group B" },
  ];
}

/** `n` allowed chats, four private chats to every group. */
export function manyChats(n: number): BenchChat[] {
  return Array.from({ length: n }, (_, i) =>
    i % 5 === 4
      ? { id: -1002000000000 - i, kind: "supergroup" as const, label: `group ${i}` }
      : { id: 200_000_000 + i, kind: "private" as const, label: `private ${i}` },
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, Math.max(0, ms)));
}

/** Polls `pred` until it holds (true) or `timeoutMs` passes (false); never throws for a timeout. */
export async function waitUntil(pred: () => boolean, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pred()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}

const KEY_RE = /\bINC-\d+\b/g;

export function keysIn(text: string): string[] {
  return [...new Set([...text.matchAll(KEY_RE)].map((m) => m[0]))];
}

/**
 * Watches every message the fake receives and records, per chat, when each incident key first became
 * visible (as a single message or a digest line), how often a key was shown again, and how many
 * incident messages arrived.
 */
export class KeyTracker {
  private readonly firstSeen = new Map<number, Map<string, number>>();
  /** Per chat: [ms, distinct keys so far] after every message that showed a new key. */
  readonly timeline = new Map<number, Array<[number, number]>>();
  readonly repeats = new Map<number, number>();
  readonly incidentMessages = new Map<number, number>();
  maxKeysPerMessage = 0;
  private readonly unsubscribe: () => void;

  constructor(
    fake: FakeBotApi,
    readonly chatIds: readonly number[],
  ) {
    for (const id of chatIds) {
      this.firstSeen.set(id, new Map());
      this.timeline.set(id, []);
      this.repeats.set(id, 0);
      this.incidentMessages.set(id, 0);
    }
    this.unsubscribe = fake.onMessage((event) => this.onEvent(event));
  }

  private onEvent(event: FakeMessageEvent): void {
    if (event.kind !== "sent") return;
    const seen = this.firstSeen.get(event.message.chatId);
    if (seen === undefined) return;
    const keys = keysIn(event.message.plainText);
    if (keys.length === 0) return;
    const now = Date.now();
    const chatId = event.message.chatId;
    this.incidentMessages.set(chatId, (this.incidentMessages.get(chatId) ?? 0) + 1);
    this.maxKeysPerMessage = Math.max(this.maxKeysPerMessage, keys.length);
    let fresh = 0;
    for (const key of keys) {
      if (seen.has(key)) this.repeats.set(chatId, (this.repeats.get(chatId) ?? 0) + 1);
      else {
        seen.set(key, now);
        fresh++;
      }
    }
    if (fresh > 0) this.timeline.get(chatId)!.push([now, seen.size]);
  }

  seenAt(chatId: number, key: string): number | undefined {
    return this.firstSeen.get(chatId)?.get(key);
  }

  /** How many of `keys` the chat shows. */
  countIn(chatId: number, keys: readonly string[]): number {
    const seen = this.firstSeen.get(chatId);
    if (seen === undefined) return 0;
    let n = 0;
    for (const key of keys) if (seen.has(key)) n++;
    return n;
  }

  allVisible(keys: readonly string[]): boolean {
    return this.chatIds.every((id) => this.countIn(id, keys) === keys.length);
  }

  stop(): void {
    this.unsubscribe();
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Services still running, so an interrupted benchmark can stop the children it started. */
export const liveServices = new Set<ServiceProcess>();

/** The service running as `node dist/cli.js run`. */
export class ServiceProcess {
  readonly spawnedAt: number;
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly httpUrl: string,
    readonly logPath: string,
  ) {
    this.spawnedAt = Date.now();
    liveServices.add(this);
    this.exited = new Promise((done) => {
      child.on("exit", (code) => {
        liveServices.delete(this);
        this.exitCode = code;
        done(code);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  rss(): number | null {
    return rssBytes(this.pid);
  }

  peakRss(): number | null {
    return peakRssBytes(this.pid);
  }

  cpu(): number | null {
    return cpuSeconds(this.pid);
  }

  /** Sum of a Prometheus metric's samples whose labels contain every `labels` pair, from /metrics. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await this.metricsText();
    let sum = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return sum;
  }

  /**
   * /metrics as text. Tried again a few times: while an ingest holds the service's event loop for
   * seconds, its keep-alive timer may close the connection just as the next scrape reuses it.
   */
  private async metricsText(): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await (await fetch(`${this.httpUrl}/metrics`)).text();
      } catch (error) {
        if (attempt >= 4 || !this.running) throw error;
        await sleep(250 * attempt);
      }
    }
  }

  /** V8 heap in use (bytes), from the service's own Prometheus process metrics. */
  heapUsed(): Promise<number> {
    return this.metric("nodejs_heap_size_used_bytes");
  }

  /** Completed new-incident polls (each is one creation list plus one lastModification list). */
  polls(): Promise<number> {
    return this.metric("mpsiem_polls_total", { kind: "creation" });
  }

  /** SIGTERM (a clean stop), SIGKILL after 8 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => {
      if (this.running) this.child.kill("SIGKILL");
    }, 8_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface SpawnOptions {
  pollIntervalSec: number;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof when looking into a figure. */
  nodeArgs?: string[];
  /**
   * What to start instead of `node dist/cli.js run`: a script and its arguments (e.g. the service with
   * scaled pacing, or `run` of another build).
   */
  command?: string[];
  /** Telegram's address for the service, when something (a delaying proxy) sits in front of the fake. */
  apiRoot?: string;
}

/** What each closed world's fake Bot API saw of flood control, for the run's totals. */
export const floodTotals: Array<{ world: string; tooManyRequests: number; duringRetryAfter: number }> = [];

export class World {
  readonly tracker: KeyTracker;
  private readonly services: ServiceProcess[] = [];

  private constructor(
    readonly name: string,
    readonly emu: RunningEmulator,
    readonly fake: FakeBotApi,
    readonly dir: string,
    readonly chats: BenchChat[],
    /** BOT_DB_URL of the world's own PostgreSQL database; null: a SQLite file. */
    readonly dbUrl: string | null = null,
  ) {
    this.tracker = new KeyTracker(
      fake,
      chats.map((c) => c.id),
    );
  }

  static async create(opts: {
    name: string;
    seed: number;
    chats: BenchChat[];
    /** false: the fake enforces no flood limits (soak); default Telegram's. */
    fakeLimits?: false;
    /** An empty PostgreSQL database for the service (BOT_DB_URL) instead of a SQLite file. */
    dbUrl?: string;
  }): Promise<World> {
    const dir = mkdtempSync(join(tmpdir(), `mpsiem-bench-${opts.name}-`));
    const emu = await startEmulator({ seed: opts.seed });
    // Telegram's limits, enforced, unless a scenario turns them off.
    const fake = await startFakeBotApi(opts.fakeLimits === false ? { limits: false } : {});
    fake.addChat({ id: ADMIN.id, type: "private", first_name: ADMIN.first_name, username: ADMIN.username });
    for (const chat of opts.chats) {
      fake.addChat(
        chat.kind === "private"
          ? { id: chat.id, type: "private", first_name: chat.label }
          : { id: chat.id, type: "supergroup", title: chat.label },
      );
    }
    return new World(opts.name, emu, fake, dir, opts.chats, opts.dbUrl ?? null);
  }

  get dbPath(): string {
    return join(this.dir, "bot.db");
  }

  /** What the service and withStore open: the PostgreSQL URL, or the SQLite file. */
  get dbTarget(): string {
    return this.dbUrl ?? this.dbPath;
  }

  /**
   * Opens the service's database while the service is not running (seeding before start); `now` is
   * the store's clock, e.g. the past for deliveries that happened long ago.
   */
  async withStore<T>(
    work: (store: Store) => Promise<T>,
    now?: () => number,
    open: typeof openStore = openStore,
  ): Promise<T> {
    const store = await open(this.dbTarget, now ? { now } : {});
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  }

  /**
   * Marks every chat of the world allowed, as an admin would have, before the service starts. `open`:
   * another build's openStore, for a service of that build (its database must carry its migrations).
   */
  async allowChats(open: typeof openStore = openStore): Promise<void> {
    await this.withStore(
      async (store) => {
        for (const chat of this.chats) {
          await store.chats.remember({
            id: chat.id,
            kind: chat.kind,
            title: chat.kind === "private" ? null : chat.label,
            firstName: chat.kind === "private" ? chat.label : null,
          });
          await store.chats.setState(chat.id, "allowed", ADMIN.id);
        }
      },
      undefined,
      open,
    );
  }

  /** Adds one incident and returns it with the moment it became visible to list calls. */
  addIncident(input: IncidentInput = {}): { incident: EmulatorIncident; visibleAt: number } {
    const incident = this.emu.state.addIncident(input);
    return { incident, visibleAt: Date.now() };
  }

  listCalls(): number {
    return this.emu.state.stats().requests[LIST_ROUTE] ?? 0;
  }

  siemRequests(): number {
    return this.emu.state.stats().totalRequests;
  }

  async spawn(opts: SpawnOptions): Promise<ServiceProcess> {
    const port = await freePort();
    const logPath = join(this.dir, `service-${this.services.length + 1}.log`);
    const log = openSync(logPath, "a");
    // Only what the service needs: the developer's own settings (or a .env) cannot leak in.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "",
      HOME: this.dir,
      MPSIEM_URL: this.emu.coreUrl,
      MPSIEM_AUTH_URL: this.emu.authUrl,
      MPSIEM_USERNAME: "siem",
      MPSIEM_PASSWORD: "siem",
      MPSIEM_CLIENT_SECRET: "emulator-secret",
      TELEGRAM_BOT_TOKEN: this.fake.token,
      TELEGRAM_ADMIN_IDS: String(ADMIN.id),
      TELEGRAM_API_ROOT: opts.apiRoot ?? this.fake.apiRoot,
      ...(this.dbUrl === null ? { BOT_DB_PATH: this.dbPath } : { BOT_DB_URL: this.dbUrl }),
      BOT_POLL_INTERVAL: String(opts.pollIntervalSec),
      BOT_INITIAL_LOOKBACK: "0",
      BOT_LOCALE: "en",
      BOT_HTTP_PORT: String(port),
      BOT_HTTP_HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      ...opts.env,
    };
    const child = spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), ...(opts.command ?? [CLI_PATH, "run"])],
      {
        cwd: this.dir,
        env,
        stdio: ["ignore", log, log],
      },
    );
    closeSync(log);
    const service = new ServiceProcess(child, `http://127.0.0.1:${port}`, logPath);
    this.services.push(service);
    return service;
  }

  /**
   * Waits for the service's first SIEM poll (creation and lastModification lists both answered);
   * returns when the first list request arrived, or null on timeout.
   */
  async waitFirstPoll(timeoutMs = 30_000): Promise<number | null> {
    let firstAt: number | null = null;
    const ok = await waitUntil(
      () => {
        const calls = this.listCalls();
        if (calls >= 1 && firstAt === null) firstAt = Date.now();
        return calls >= 2;
      },
      timeoutMs,
      5,
    );
    return ok ? firstAt : null;
  }

  /** Waits until the bot long-polls Telegram (so it sees button presses). */
  waitBotPolling(timeoutMs = 30_000): Promise<boolean> {
    return waitUntil(() => this.fake.calls.some((c) => c.method === "getUpdates"), timeoutMs, 20);
  }

  async close(): Promise<void> {
    this.tracker.stop();
    await Promise.allSettled(this.services.map((s) => s.stop()));
    const { tooManyRequests, duringRetryAfter } = this.fake.stats();
    floodTotals.push({ world: this.name, tooManyRequests, duringRetryAfter });
    await Promise.allSettled([this.emu.close(), this.fake.close()]);
    // BENCH_KEEP=1 keeps the world's folder (database, service log) to look into a figure afterwards.
    if (process.env.BENCH_KEEP === "1") console.error(`[bench] kept ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
