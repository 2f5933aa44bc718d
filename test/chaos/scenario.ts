// The chaos scenario engine, shared by `npm run chaos` (test/chaos/run.ts) and the short run inside
// `npm test` (chaos.test.ts). It starts the MP SIEM emulator and the fake Bot API in this process,
// runs the real service as a child process (`node dist/cli.js run`), follows a seeded plan of
// incidents, faults and kills, then lets everything settle and judges the outcome (check.ts).
// With `instances: 2` two instances share one PostgreSQL database (a throw-away cluster the run starts
// and always stops): the plan then kills the leader and the standby and ends the leader's database
// connections, each process reaches Telegram through its own tagging proxy (so every call is known by
// the process that made it), and the lease's log lines tell the run every leader's term.

import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import {
  CONNECTION_RESET,
  type FakeBotApi,
  type FakeUser,
  type RecordedCall,
  startFakeBotApi,
} from "../../src/botapi-fake/index.js";
import { DEFAULT_LEASE_TTL_MS } from "../../src/config/schema.js";
import { type EmulatorIncident, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { t } from "../../src/i18n/index.js";
import {
  decodeCallbackData,
  encodeCallbackData,
  type IncidentAction,
} from "../../src/render/callback-data.js";
import { LEASE_NAME, openStore } from "../../src/store/index.js";
import { openDatabase } from "../../src/store/open.js";
import { createDatabase, type PostgresCluster, startPostgresCluster } from "../helpers/postgres-keeper.js";
import { PROCESS_PARAM, startTaggingProxy, type TaggingProxy } from "../helpers/tagging-proxy.js";
import { tempDir } from "../helpers/tmp.js";
import {
  type CallRecord,
  type ChatGroup,
  type IncidentRecord,
  type InstanceRecord,
  judge,
  MAX_CONFLICTS_PER_TAKEOVER,
  type MessageRecord,
  RoutingModel,
  type RuleChange,
  retryAfterBreaches,
  type TermRecord,
  type Verdict,
} from "./check.js";
import {
  type BotMessage,
  judgeReminders,
  type ReminderVerdict,
  type SnoozePress,
  type Stretch,
  type TruthChange,
} from "./check-reminders.js";
import {
  type Allowed,
  type ApiTransition,
  judgeWorkflow,
  type LinkRecord,
  type PressRecord,
  type WorkflowVerdict,
} from "./check-workflow.js";
import {
  type ChaosAction,
  type ChaosPlan,
  countByKind,
  makePlan,
  type PlanShape,
  type Presser,
  type ReminderPlan,
  type RoutedChat,
  STATUSES,
} from "./plan.js";
import {
  asAdmin,
  type Terminated,
  terminateConnectionsOf,
  terminateLeaseConnection,
} from "./postgres-faults.js";
import { canonicalText, matchersText, type SeverityWord } from "./rules.js";

export { CLI_PATH, REPO } from "../helpers/build.js";

import { CLI_PATH } from "../helpers/build.js";

export const ADMIN: FakeUser = { id: 9001, username: "soc_lead", first_name: "Sasha" };
/** A private chat that receives incidents all along. */
export const ALICE: FakeUser = { id: 4242, username: "alice", first_name: "Alice" };
/** A private chat that receives incidents, blocks the bot once and comes back. */
export const BOB: FakeUser = { id: 4343, username: "bob", first_name: "Bob" };
/** A stranger: only a member of the group, never allowed; her presses there must change nothing. */
export const CAROL: FakeUser = { id: 4545, username: "carol", first_name: "Carol" };
/** Alice's MP account, which the admin links her to during the run (then her Take assigns). */
const ALICE_MP_LOGIN = "a.smirnova";
/** A basic group that receives incidents and becomes a supergroup during the run. */
export const GROUP_ID = -4_070_001;
export const SUPERGROUP_ID = -1_004_070_001;
/** The chat escalations go to (BOT_ESCALATE_CHAT or a file policy's notify step): set by id alone, never allowed. */
export const ESCALATION_ID = -4_070_099;
/** The MP account the SIEM UI assigns incidents to, besides Alice's. */
const OPERATOR_MP_LOGIN = "d.ivanov";
/** The chat groups as the verdict names them (the routing commands name them too). */
const ALICE_GROUP = "Alice (private)";
const BOB_GROUP = "Bob (private, blocks the bot once)";
const SOC_GROUP = "SOC duty (group → supergroup)";

export interface ChaosOptions {
  seed: number;
  /** Length of the chaos phase. */
  durationMs: number;
  /** How long the settling phase may take before what is still missing counts as lost. */
  settleTimeoutMs?: number;
  /** Progress lines (the CLI prints them; the test collects them). */
  log?: (line: string) => void;
  /** Keep the temporary folder (service log, database) when the run finds a violation. */
  keepOnFailure?: boolean;
  /** Instances of the service (default 1); more than one needs PostgreSQL. */
  instances?: number;
  /** Where the service keeps its state (default SQLite). */
  db?: "sqlite" | "postgres";
  /** PostgreSQL: an existing cluster's admin URL (the run makes its own database there); else the run starts one. */
  postgresAdminUrl?: string;
}

/** What a run with several instances adds to the report. */
export interface LeadershipReport {
  instances: number;
  leaseTtlSec: number;
  /** Terms begun (the first lease of the run included). */
  terms: number;
  /** How the terms ended (those still open at the final stop not counted). */
  termEnds: Record<string, number>;
  leaderKills: { SIGKILL: number; SIGTERM: number };
  standbyKills: { SIGKILL: number; SIGTERM: number };
  /** Leader kills that landed inside the fake's handling of one of its messages. */
  midSend: number;
  pgTerminate: { lease: number; all: number; backendsEnded: number };
  /** Leadership faults the plan asked for that found no target (no leader, or no standby, just then). */
  skipped: number;
  /** Longest stretch with nobody leading (between a term's end and the next one's start), ms. */
  longestLeaderlessMs: number;
  conflicts: number;
  conflictsPerTakeoverMax: number;
  /** The instance leading at the end (after settling), or null when not exactly one did. */
  finalLeader: string | null;
}

export interface ChaosReport {
  seed: number;
  durationMs: number;
  pollIntervalSec: number;
  incidents: number;
  incidentsByKind: Record<string, number>;
  statusChanges: number;
  faults: Record<string, number>;
  kills: { SIGKILL: number; SIGTERM: number; forcedStops: number };
  processes: number;
  verdict: Verdict;
  /** Answers 429 the fake gave (its own limits and injected ones). */
  tooManyRequests: number;
  /** Requests the fake caught inside a retry_after window (excused ones included). */
  retryAfterBreaches: number;
  settleMs: number;
  /**
   * The routing commands sent, by kind, and BOT_SILENT_BELOW; `carriedOut`: those the store's audit log
   * shows done (a reply cut short by a graceful stop is lost, so replies alone can undercount).
   */
  routing: { silentBelow: string | null; commands: Record<string, number>; carriedOut: number };
  bobReallowed: boolean;
  migrated: boolean;
  notes: string[];
  /** Where the service log and database are, when kept. */
  keptDir: string | null;
  shape: PlanShape;
  leadership?: LeadershipReport;
  /** The workflow: presses, lookups, the link, and what the checker found of them. */
  workflow: { lookups: number; linked: boolean; pressesBy: Record<string, number>; verdict: WorkflowVerdict };
  /** Reminders and escalation (issue 15): the policies, what the run did to them, and the verdict. */
  reminders: {
    plan: ReminderPlan;
    snoozes: number;
    snoozesAccepted: number;
    siemAssigns: number;
    verdict: ReminderVerdict;
  };
}

/** A digest line as a person reads it: "🔴 ✅ INC-12 Name /inc_12" (severity, status mark once past New, key). */
const DIGEST_LINE = /^\S+ (?:(\S+) )?(INC-\d+) /;
/** How long a Close press waits for the reasons to show before pressing one anyway. */
const CONFIRM_WAIT_MS = 8_000;
const STALE_CHOICES: readonly IncidentAction[] = ["approve", "take", "resolve", "close"];

const INCIDENT_URL_ID =
  /\/incidents\/view\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/g;
const SILENT_MARK = t("en").incident.silent;
/** A digest's header: "12 new incidents", and " · 🔕 silent" when it went silently. */
const DIGEST_FIRST_LINE = new RegExp(`^\\d+ new incidents?( \\(\\d+\\/\\d+\\))?( · ${SILENT_MARK})?$`);
const STARTED_LINE = '"msg":"service started"';
const START_TIMEOUT_MS = 30_000;
const SIGTERM_GRACE_MS = 12_000;
const REALLOW_REPLY_TIMEOUT_MS = 20_000;
const REALLOW_ATTEMPTS = 6;
const QUIET_AFTER_SETTLE_MS = 3_000;
/** A fault aimed at the leader (or a standby) waits this long for one to exist, then is skipped. */
const FIND_TARGET_WITHIN_MS = 10_000;
/** A mid-send kill waits this long for the leader's next message, then kills it anyway. */
const MID_SEND_WITHIN_MS = 5_000;
/** Several instances run with the default BOT_LEASE_TTL, as an operator would. */
const LEASE_TTL_SEC = DEFAULT_LEASE_TTL_MS / 1000;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export function incidentIdsIn(text: string): string[] {
  return [...new Set([...text.matchAll(INCIDENT_URL_ID)].map((m) => m[1]!.toLowerCase()))];
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

/** A Bot API answer as the fake writes it. */
interface BotApiAnswer {
  ok?: boolean;
  error_code?: number;
  parameters?: { retry_after?: number };
}

interface SentMessage {
  chatId: number;
  messageId: number;
  at: number;
  instance: number;
  sentIds: string[];
  call: RecordedCall | undefined;
}

/** Service processes still running: an interrupted run (run.ts exits on SIGINT/SIGTERM) ends them. */
const liveChildren = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
});

/** What every service process of a run shares: the record of processes and of leaders' terms. */
interface ProcessRegistry {
  readonly instances: InstanceRecord[];
  readonly terms: TermRecord[];
  /** Runner clock (ms since the run's start) of a wall-clock time (ms). */
  readonly fromWallClock: (ms: number) => number;
}

/** Log lines of the lease that begin and end a term (src/leadership/postgres-lease.ts). */
const TERM_BEGINS = "this instance leads now";
const TERM_LOST = "this instance no longer leads";
const TERM_GIVEN_UP = "gave up the leader lease";

/**
 * One instance of the service (one BOT_INSTANCE_NAME) as a child process: started, killed and restarted
 * by the plan; every process and exit recorded. With several instances it also follows the lease's log
 * lines, so the run knows each leader's terms, and gives each process its own way to Telegram.
 */
class ServiceProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly closes: Array<Promise<void>> = [];
  private expectedEnd: "SIGKILL" | "SIGTERM" | null = null;
  /** A process signalled by signalNow(), until kill() has waited for it. */
  private signalled: ChildProcess | null = null;
  private restarting: Promise<void> | null = null;
  private closed = false;
  private currentIndex = -1;

  constructor(
    private readonly registry: ProcessRegistry,
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
    private readonly logFile: string,
    private readonly clock: () => number,
    private readonly say: (line: string) => void,
    /** This instance's name when the run has several ("a", "b"); null for the one instance. */
    readonly slot: string | null = null,
    /** Extra settings of each new process (its own way to Telegram), by its index. */
    private readonly perProcess?: (index: number) => Promise<Record<string, string>>,
  ) {}

  get instances(): InstanceRecord[] {
    return this.registry.instances;
  }

  /** Index of this instance's latest process. */
  get current(): number {
    return this.slot === null ? this.instances.length - 1 : this.currentIndex;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** The term this instance's running process is in, if it leads. */
  openTerm(): TermRecord | undefined {
    if (this.child === null) return undefined;
    return this.registry.terms.find((t) => t.instance === this.currentIndex && t.endedAt === null);
  }

  /** Starts a new process; resolves once it logged "service started" (or rejects). */
  async start(): Promise<void> {
    const index = this.instances.length;
    const record: InstanceRecord = {
      index,
      ...(this.slot === null ? {} : { slot: this.slot }),
      startedAt: this.clock(),
      endedAt: null,
      endedBy: null,
      exitCode: null,
      signal: null,
    };
    this.instances.push(record);
    this.currentIndex = index;
    const name = this.slot === null ? "" : ` (${this.slot})`;
    appendFileSync(
      this.logFile,
      `\n===== service process #${index}${name} starts at +${record.startedAt} ms =====\n`,
    );
    const extra = this.perProcess ? await this.perProcess(index) : {};
    const child = spawn(process.execPath, [CLI_PATH, "run"], {
      cwd: this.cwd,
      env: { ...this.env, ...extra },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    liveChildren.add(child);
    let output = "";
    let partial = "";
    const onData = (chunk: Buffer) => {
      appendFileSync(this.logFile, chunk);
      if (output.length < 200_000) output += chunk.toString("utf8");
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    if (this.slot !== null) {
      child.stdout?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) this.onLogLine(index, line);
      });
      this.closes.push(
        new Promise<void>((done) =>
          child.on("close", () => {
            if (partial !== "") this.onLogLine(index, partial);
            this.endTermsAtExit(record);
            done();
          }),
        ),
      );
    }
    this.exited = new Promise<void>((done) => {
      child.on("exit", (code, signal) => {
        liveChildren.delete(child);
        record.endedAt = this.clock();
        record.exitCode = code;
        record.signal = signal;
        record.endedBy = this.expectedEnd ?? "self";
        this.expectedEnd = null;
        if (this.child === child) this.child = null;
        appendFileSync(
          this.logFile,
          `\n===== service process #${index}${name} exited at +${record.endedAt} ms: code ${code}, signal ${signal} =====\n`,
        );
        if (record.endedBy === "self" && !this.closed) {
          this.say(
            `  ! service process #${index}${name} exited by itself (code ${code}, signal ${signal}); restarting`,
          );
          this.scheduleRestart(1_000);
        }
        done();
      });
    });
    return new Promise<void>((done, fail) => {
      const timer = setTimeout(() => {
        cleanup();
        fail(new Error(`service process #${index}: no "service started" within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const check = () => {
        if (output.includes(STARTED_LINE)) {
          record.readyAt = this.clock();
          cleanup();
          done();
        }
      };
      const onExit = () => {
        cleanup();
        fail(new Error(`service process #${index} exited while starting:\n${output.slice(-3_000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout?.off("data", check);
        child.off("exit", onExit);
      };
      child.stdout?.on("data", check);
      child.once("exit", onExit);
    });
  }

  /** A lease log line: a term begins, is lost or is given up (timed by the line's own timestamp). */
  private onLogLine(index: number, line: string): void {
    if (!line.includes(TERM_BEGINS) && !line.includes(TERM_LOST) && !line.includes(TERM_GIVEN_UP)) return;
    let entry: { msg?: string; time?: string; epoch?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    const at = this.registry.fromWallClock(entry.time ? Date.parse(entry.time) : Date.now());
    const msg = entry.msg ?? "";
    const open = this.registry.terms.find((t) => t.instance === index && t.endedAt === null);
    if (msg.startsWith(TERM_BEGINS)) {
      if (open) Object.assign(open, { endedAt: at, endedBy: "lost" });
      this.registry.terms.push({
        instance: index,
        epoch: typeof entry.epoch === "number" ? entry.epoch : null,
        startedAt: at,
        endedAt: null,
        endedBy: null,
      });
    } else if (open && msg.startsWith(TERM_LOST)) {
      Object.assign(open, { endedAt: at, endedBy: "lost" });
    } else if (open && msg.startsWith(TERM_GIVEN_UP)) {
      Object.assign(open, { endedAt: at, endedBy: "stopped" });
    }
  }

  /** The process is gone: a term still open ends with it; a stop that was not clean counts as a kill. */
  private endTermsAtExit(record: InstanceRecord): void {
    const forced = record.endedBy === "SIGKILL" || (record.endedBy === "SIGTERM" && record.exitCode !== 0);
    const end = forced ? "killed" : record.endedBy === "self" ? "self" : "stopped";
    const mine = this.registry.terms.filter((t) => t.instance === record.index);
    for (const term of mine) {
      if (term.endedAt === null) Object.assign(term, { endedAt: record.endedAt, endedBy: end });
    }
    const last = mine.at(-1);
    if (forced && last?.endedBy === "stopped") last.endedBy = "killed";
  }

  /**
   * Signals the running process at once, synchronously: from inside the fake's handling of one of its
   * calls, before the answer leaves. kill() then waits for it and restarts it.
   */
  signalNow(signal: "SIGKILL" | "SIGTERM"): void {
    const child = this.child;
    if (child === null) return;
    this.signalled = child;
    this.expectedEnd = signal;
    child.kill(signal);
  }

  /** Kills the running process (waiting for a pending restart first) and starts it again later. */
  async kill(signal: "SIGKILL" | "SIGTERM", restartAfterMs: number): Promise<void> {
    const signalled = this.signalled;
    this.signalled = null;
    if (this.restarting && signalled === null) await this.restarting;
    const child = signalled ?? this.child;
    if (child === null) return;
    const record = this.instances[this.current]!;
    if (signalled === null) {
      this.expectedEnd = signal;
      child.kill(signal);
    }
    const limit = signal === "SIGTERM" ? SIGTERM_GRACE_MS : 5_000;
    const ended = await Promise.race([this.exited.then(() => true), sleep(limit).then(() => false)]);
    if (!ended) {
      this.say(`  ! process #${record.index} still running ${limit} ms after ${signal}; killing it`);
      child.kill("SIGKILL");
      await this.exited;
      record.exitCode = record.exitCode ?? -1;
    }
    this.scheduleRestart(restartAfterMs);
  }

  private scheduleRestart(afterMs: number): void {
    if (this.closed) return;
    this.restarting = (async () => {
      await sleep(afterMs);
      if (this.closed) return;
      try {
        await this.start();
      } catch (error) {
        this.say(`  ! ${(error as Error).message}`);
      }
    })().finally(() => {
      this.restarting = null;
    });
  }

  /** Waits for a pending restart, if any. */
  async settled(): Promise<void> {
    while (this.restarting) await this.restarting;
  }

  /** Resolves when every process's output has been read to its end (terms complete). */
  async drained(): Promise<void> {
    await Promise.race([Promise.all(this.closes), sleep(5_000)]);
  }

  /** The final, graceful stop: SIGTERM, expecting exit code 0. */
  async stop(): Promise<{ code: number | null; ms: number } | null> {
    await this.settled();
    this.closed = true;
    const child = this.child;
    if (child === null) return null;
    const started = Date.now();
    this.expectedEnd = "SIGTERM";
    child.kill("SIGTERM");
    const ended = await Promise.race([
      this.exited.then(() => true),
      sleep(SIGTERM_GRACE_MS).then(() => false),
    ]);
    if (!ended) {
      child.kill("SIGKILL");
      await this.exited;
      return { code: null, ms: Date.now() - started };
    }
    return { code: this.instances[this.current]!.exitCode, ms: Date.now() - started };
  }

  /** Ends everything at once (a failed start, an error in the runner). */
  async abort(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (child !== null) {
      this.expectedEnd = "SIGKILL";
      child.kill("SIGKILL");
      await Promise.race([this.exited, sleep(5_000)]);
    }
  }
}

/** Runs one chaos scenario from its seed; never throws for what the service does wrong (that is the verdict). */
export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const say = opts.log ?? (() => undefined);
  const shape: PlanShape = { instances: opts.instances ?? 1, db: opts.db ?? "sqlite" };
  if (shape.instances > 1 && shape.db !== "postgres") {
    throw new Error("several instances share one PostgreSQL database: --instances 2 needs --db postgres");
  }
  const several = shape.instances > 1;
  const plan: ChaosPlan = makePlan(opts.seed, opts.durationMs, shape);
  const planned = countByKind(plan.actions);
  say(
    `plan: ${plan.actions.length} actions over ${Math.round(opts.durationMs / 1000)} s, poll interval ${plan.pollIntervalSec} s — ` +
      Object.entries(planned)
        .map(([k, n]) => `${k} ${n}`)
        .join(", "),
  );

  const tmp = tempDir("mpsiem-chaos-");
  const dbPath = join(tmp.dir, "data", "bot.db");
  const logFile = join(tmp.dir, "service.log");
  // PostgreSQL first: a cluster that fails to start leaves nothing else behind.
  let cluster: PostgresCluster | null = null;
  let dbUrl: string | null = null;
  if (shape.db === "postgres") {
    let adminUrl = opts.postgresAdminUrl;
    if (adminUrl === undefined) {
      cluster = await startPostgresCluster();
      adminUrl = cluster.url;
      say(
        `PostgreSQL cluster started in ${(cluster.startupMs / 1000).toFixed(1)} s (server pid ${cluster.pid})`,
      );
    }
    try {
      dbUrl = await createDatabase(adminUrl, `chaos_${opts.seed}_${Date.now().toString(36)}`);
    } catch (error) {
      await cluster?.stop();
      rmSync(tmp.dir, { recursive: true, force: true });
      throw error;
    }
  }
  const dbTarget = dbUrl ?? dbPath;
  const emu: RunningEmulator = await startEmulator({ seed: plan.emulatorSeed, tokenTtlSec: 45 });
  const fake: FakeBotApi = await startFakeBotApi();
  const t0 = Date.now();
  const clock = () => Date.now() - t0;
  const notes: string[] = [];
  const registry: ProcessRegistry = { instances: [], terms: [], fromWallClock: (ms) => ms - t0 };
  const proxies: TaggingProxy[] = [];

  fake.addChat({ id: ADMIN.id, type: "private", first_name: ADMIN.first_name, username: ADMIN.username });
  fake.addChat({ id: ALICE.id, type: "private", first_name: ALICE.first_name, username: ALICE.username });
  fake.addChat({ id: BOB.id, type: "private", first_name: BOB.first_name, username: BOB.username });
  fake.addChat({ id: GROUP_ID, type: "group", title: "SOC duty" });
  fake.addChat({ id: ESCALATION_ID, type: "group", title: "SOC leads" });

  // Every message the bot sends, with the process that sent it and the call that carried it.
  const sent: SentMessage[] = [];
  let service: ServiceProcess | undefined;
  /** A kill waiting for the leader's next message (plan's midSend): fired inside the fake's handler. */
  let armed: { instance: number; fire: () => void } | null = null;
  const unsubscribe = fake.onMessage((event) => {
    if (event.kind !== "sent") return;
    // The fake records the call and stores its message in one synchronous step: the last call is this one.
    const call = fake.calls[fake.calls.length - 1];
    const record: SentMessage = {
      chatId: event.message.chatId,
      messageId: event.message.messageId,
      at: clock(),
      instance: several ? (processOf(call) ?? -1) : (service?.current ?? -1),
      sentIds: incidentIdsIn(event.message.text),
      call,
    };
    sent.push(record);
    if (armed !== null && armed.instance === record.instance && record.sentIds.length > 0) {
      const fire = armed.fire;
      armed = null;
      fire();
    }
  });

  // The chats start allowed, as if an admin had approved them before the run.
  const store = await openStore(dbTarget);
  try {
    const seeds = [
      { id: ALICE.id, kind: "private" as const, firstName: ALICE.first_name, username: ALICE.username },
      { id: BOB.id, kind: "private" as const, firstName: BOB.first_name, username: BOB.username },
      { id: GROUP_ID, kind: "group" as const, title: "SOC duty" },
    ];
    for (const chat of seeds) {
      await store.chats.remember(chat);
      await store.chats.setState(chat.id, "allowed", ADMIN.id);
    }
  } finally {
    await store.close();
  }

  const httpPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "",
    HOME: tmp.dir,
    MPSIEM_URL: emu.coreUrl,
    MPSIEM_AUTH_URL: emu.authUrl,
    MPSIEM_USERNAME: "siem",
    MPSIEM_PASSWORD: "siem",
    MPSIEM_CLIENT_SECRET: "emulator-secret",
    MPSIEM_TIMEOUT: "3s",
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_ADMIN_IDS: String(ADMIN.id),
    TELEGRAM_API_ROOT: fake.apiRoot,
    ...(dbUrl === null ? { BOT_DB_PATH: dbPath } : { BOT_DB_URL: dbUrl }),
    BOT_POLL_INTERVAL: String(plan.pollIntervalSec),
    BOT_INITIAL_LOOKBACK: "1h",
    BOT_LOCALE: "en",
    BOT_TIME_ZONE: "UTC",
    ...(plan.silentBelow === null ? {} : { BOT_SILENT_BELOW: plan.silentBelow }),
    BOT_HTTP_PORT: String(httpPort),
    LOG_LEVEL: "info",
    ...reminderSettings(plan.reminders, tmp.dir),
  };
  // One instance: as it always ran. Several: each with its name, its HTTP port and, per process, its
  // own tagging proxy to Telegram.
  const slots: ServiceProcess[] = [];
  const ports = new Map<ServiceProcess, number>();
  if (!several) {
    service = new ServiceProcess(registry, env, tmp.dir, logFile, clock, say);
    slots.push(service);
    ports.set(service, httpPort);
  } else {
    for (let i = 0; i < shape.instances; i++) {
      const name = String.fromCharCode(97 + i);
      const port = i === 0 ? httpPort : await freePort();
      const slot = new ServiceProcess(
        registry,
        { ...env, BOT_INSTANCE_NAME: name, BOT_HTTP_PORT: String(port) },
        tmp.dir,
        join(tmp.dir, `service-${name}.log`),
        clock,
        say,
        name,
        async (index) => {
          const proxy = await startTaggingProxy(fake.apiRoot, index);
          proxies.push(proxy);
          return { TELEGRAM_API_ROOT: proxy.apiRoot };
        },
      );
      slots.push(slot);
      ports.set(slot, port);
    }
    service = slots[0];
  }
  const leadership = {
    leaderKills: { SIGKILL: 0, SIGTERM: 0 },
    standbyKills: { SIGKILL: 0, SIGTERM: 0 },
    pgTerminate: { lease: 0, all: 0, backendsEnded: 0 },
    skipped: 0,
    midSend: 0,
  };

  const incidents: IncidentRecord[] = [];
  const incidentsByKind: Record<string, number> = { single: 0, burst: 0, late: 0, future: 0 };
  const faults: Record<string, number> = {};
  let statusChanges = 0;
  const bob = {
    blockedAt: null as number | null,
    unblockedAt: null as number | null,
    reallowedAt: null as number | null,
  };
  let migratedAt: number | null = null;
  let reallowTask: Promise<void> = Promise.resolve();
  const fault = (name: string) => {
    faults[name] = (faults[name] ?? 0) + 1;
  };
  const remember = (created: EmulatorIncident[], kind: string) => {
    const at = clock();
    for (const incident of created) {
      const { id, key, severity, type, category, name } = incident;
      incidents.push({ id, key, appearedAt: at, facts: { severity, type, category, name } });
    }
    incidentsByKind[kind] = (incidentsByKind[kind] ?? 0) + created.length;
  };

  /** The admin allows Bob again with /accept<id>; done once the bot confirms it to the admin. */
  async function reallowBob(): Promise<void> {
    const acceptPrefix = t("en").commands.acceptDone("");
    for (let attempt = 1; attempt <= REALLOW_ATTEMPTS && bob.reallowedAt === null; attempt++) {
      const askedAt = clock();
      fake.sendText(ADMIN, ADMIN.id, `/accept ${BOB.id}`);
      const deadline = Date.now() + REALLOW_REPLY_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const reply = sent.find(
          (m) =>
            m.chatId === ADMIN.id &&
            m.at >= askedAt &&
            fake
              .messages(ADMIN.id)
              .some(
                (x) =>
                  x.messageId === m.messageId &&
                  x.plainText.startsWith(acceptPrefix) &&
                  x.plainText.includes(`id ${BOB.id}`),
              ),
        );
        if (reply) {
          bob.reallowedAt = reply.at;
          say(`  +${reply.at} ms: the admin allowed Bob again`);
          return;
        }
        await sleep(200);
      }
    }
    notes.push("the admin's /accept for Bob was never confirmed: Bob's later incidents were not owed");
  }

  /** The routing commands sent, for the verdict; their replies are matched when judging. */
  const ruleCommands: Array<{
    change: Omit<RuleChange, "confirmedAt" | "refused">;
    chatId: number;
    tag: string;
    text: string;
  }> = [];
  const routingCounts: Record<string, number> = {};
  /** Replies refusing matchers (judged as violations: the plan draws only valid ones). */
  const refusedMatchers: string[] = [];
  /** Incident id → when the service queued it (its first outbox row's created_at, runner clock); read at the end. */
  let queuedAt: Map<string, number> | undefined;
  /** Routing commands no reply was seen to (their rules may or may not be in force: judged leniently). */
  const unanswered: string[] = [];

  // The workflow: presses from several people, the admin's lookups, Alice's link.
  const presses: PressRecord[] = [];
  const pressesBy: Record<string, number> = {};
  const followUps: Array<Promise<void>> = [];
  const links: LinkRecord[] = [];
  let lookups = 0;
  const aliceMp = emu.state.addUser({ userName: ALICE_MP_LOGIN, firstName: "Alice", lastName: "Smirnova" });
  const operatorMp = emu.state.addUser({
    userName: OPERATOR_MP_LOGIN,
    firstName: "Dmitry",
    lastName: "Ivanov",
  });

  // Reminders: what the run does to them, and the times the bot could not look at the SIEM or send.
  const snoozes: Array<Omit<SnoozePress, "accepted"> & { callbackId: string }> = [];
  const uiAssigns: TruthChange[] = [];
  const lagChanges: Array<{ at: number; ms: number }> = [];
  const siemTrouble: Stretch[] = [];
  const telegramTrouble: Stretch[] = [];
  /** A slow SIEM phase under way (its end closes it). */
  const slow: { since: { at: number; ms: number } | null } = { since: null };
  const trouble = (list: Stretch[], what: string, lengthMs: number, more: Partial<Stretch> = {}) => {
    const at = clock();
    list.push({ from: at, to: at + lengthMs, what, ...more });
  };
  const groupNow = () => (migratedAt === null ? GROUP_ID : SUPERGROUP_ID);
  const userOf: Record<Presser, FakeUser> = { admin: ADMIN, alice: ALICE, bob: BOB, carol: CAROL };

  /** Whether a person could act on incidents at `at` (BOT_ACTION_POLICY=users, the default). */
  function allowedAt(presser: Presser, at: number): Allowed {
    if (presser === "admin" || presser === "alice") return "yes";
    if (presser === "carol") return "no";
    // Bob: allowed personally, except from his block until the admin allowed him again (when the
    // service learns of the block is its own affair: maybe).
    if (bob.blockedAt === null || at < bob.blockedAt) return "yes";
    return bob.reallowedAt !== null && at >= bob.reallowedAt ? "yes" : "maybe";
  }

  /** The chats a person presses in: their own private chat (Alice), the admin's /inc cards, the group. */
  function chatsOf(presser: Presser): number[] {
    if (presser === "admin") return [groupNow(), ADMIN.id];
    if (presser === "alice") return [ALICE.id, groupNow()];
    return [groupNow()];
  }

  /** The actions of the buttons a message shows now. */
  function buttonsOf(chatId: number, messageId: number): IncidentAction[] {
    const m = fake.messages(chatId).find((x) => x.messageId === messageId);
    const markup = m?.replyMarkup as
      | { inline_keyboard?: Array<Array<{ callback_data?: string }>> }
      | undefined;
    const out: IncidentAction[] = [];
    for (const row of markup?.inline_keyboard ?? []) {
      for (const button of row) {
        const data = decodeCallbackData(button.callback_data);
        if (data?.kind === "incident") out.push(data.action);
      }
    }
    return out;
  }

  function press(
    presser: Presser,
    chatId: number,
    messageId: number,
    incidentId: string,
    action: IncidentAction,
  ) {
    const at = clock();
    const data = encodeCallbackData({ kind: "incident", action, incidentId });
    const callbackId = fake.pressButton(userOf[presser], chatId, messageId, data);
    presses.push({
      callbackId,
      at,
      userId: userOf[presser].id,
      chatId,
      messageId,
      incidentId,
      action,
      allowed: allowedAt(presser, at),
    });
    pressesBy[presser] = (pressesBy[presser] ?? 0) + 1;
  }

  function pressSomething(action: Extract<ChaosAction, { kind: "press" }>): void {
    const chats = chatsOf(action.presser);
    const copies = sent.filter((m) => chats.includes(m.chatId) && m.sentIds.length === 1);
    const cards = copies.filter((m) => buttonsOf(m.chatId, m.messageId).length > 0);
    if (cards.length === 0) return;
    const card = cards[Math.min(cards.length - 1, Math.floor(action.pick * cards.length))]!;
    const incidentId = card.sentIds[0]!;
    // Snooze is pressed by its own actions (the reminders' stream), so a seed presses what it always did.
    const shown = buttonsOf(card.chatId, card.messageId).filter((a) => a !== "refresh" && a !== "snooze");
    const what =
      action.fresh && shown.length > 0
        ? shown[action.choice % shown.length]!
        : STALE_CHOICES[action.choice % 4]!;
    press(action.presser, card.chatId, card.messageId, incidentId, what);
    if (what !== "close") return;
    // Close asks for a reason: wait for the reasons (bounded), then press one, or Cancel.
    followUps.push(
      (async () => {
        const deadline = Date.now() + CONFIRM_WAIT_MS;
        while (Date.now() < deadline && !buttonsOf(card.chatId, card.messageId).includes("close_yes"))
          await sleep(200);
        press(action.presser, card.chatId, card.messageId, incidentId, action.reason);
      })(),
    );
  }

  /** Someone presses Snooze under one of their copies that shows it. */
  function snoozeSomething(action: Extract<ChaosAction, { kind: "snooze" }>): void {
    const chats = chatsOf(action.presser);
    const cards = sent.filter(
      (m) =>
        chats.includes(m.chatId) &&
        m.sentIds.length === 1 &&
        buttonsOf(m.chatId, m.messageId).includes("snooze"),
    );
    if (cards.length === 0) return;
    const card = cards[Math.min(cards.length - 1, Math.floor(action.pick * cards.length))]!;
    const incidentId = card.sentIds[0]!;
    const at = clock();
    const data = encodeCallbackData({ kind: "incident", action: "snooze", incidentId });
    const callbackId = fake.pressButton(userOf[action.presser], card.chatId, card.messageId, data);
    const allowed = allowedAt(action.presser, at);
    presses.push({
      callbackId,
      at,
      userId: userOf[action.presser].id,
      chatId: card.chatId,
      messageId: card.messageId,
      incidentId,
      action: "snooze",
      allowed,
    });
    pressesBy[action.presser] = (pressesBy[action.presser] ?? 0) + 1;
    snoozes.push({ incidentId, at, allowed, callbackId });
  }

  /** Someone in the SIEM UI assigns an incident, or clears its assignee. */
  function assignInUi(action: Extract<ChaosAction, { kind: "siemAssign" }>): void {
    if (incidents.length === 0) return;
    const target = incidents[Math.min(incidents.length - 1, Math.floor(action.pick * incidents.length))]!;
    const to = action.to === null ? null : action.to === "alice" ? aliceMp.id : operatorMp.id;
    emu.state.assign(target.id, to);
    uiAssigns.push({ incidentId: target.id, at: clock(), assigned: to });
  }

  /** The admin asks for a card in their private chat: a digest's /inc_N, or /inc KEY. */
  function lookUp(action: Extract<ChaosAction, { kind: "lookup" }>): void {
    let text: string | null = null;
    if (action.fromDigest) {
      const commands = fake
        .messages()
        .filter((m) => DIGEST_FIRST_LINE.test(m.plainText.split("\n", 1)[0] ?? ""))
        .flatMap((m) => [...m.plainText.matchAll(/\/inc_\d+/g)].map((x) => x[0]));
      if (commands.length > 0)
        text = commands[Math.min(commands.length - 1, Math.floor(action.pick * commands.length))]!;
    }
    if (text === null) {
      if (incidents.length === 0) return;
      text = `/inc ${incidents[Math.min(incidents.length - 1, Math.floor(action.pick * incidents.length))]!.key}`;
    }
    fake.sendText(ADMIN, ADMIN.id, text);
    lookups++;
    say(`  +${clock()} ms: ${text}`);
  }

  /** Every transition made through the API (by the bot: the SIEM UI's are "ui"), with runner times. */
  function apiTransitions(): ApiTransition[] {
    return incidents.flatMap((incident) =>
      emu.state
        .transitionsOf(incident.id)
        .filter((h) => h.via === "api")
        .map((h) => ({
          incidentId: incident.id,
          key: incident.key,
          at: Date.parse(h.timestamp) - t0,
          prevStatus: h.prevStatus,
          nextStatus: h.nextStatus,
          comment: h.comment,
        })),
    );
  }

  function judgeWorkflowNow(): WorkflowVerdict {
    return judgeWorkflow({
      presses,
      answered: new Set(fake.answeredCallbacks().keys()),
      transitions: apiTransitions(),
      updates: emu.state.updatesOf().map((u) => ({
        incidentId: u.incidentId,
        key: u.key,
        at: Date.parse(u.at) - t0,
        assigned:
          typeof u.body === "object" && u.body !== null && "assigned" in u.body
            ? ((u.body as { assigned: string | null }).assigned ?? null)
            : undefined,
        status: u.status,
      })),
      links,
      processEnds: registry.instances.flatMap((i) =>
        i.endedAt !== null && i.endedBy !== "self" ? [{ at: i.endedAt }] : [],
      ),
    });
  }

  /**
   * Reminders and escalation (check-reminders.ts), judged from the fake's messages and the emulator's
   * records of every status and assignee, with the times the bot could not look or send.
   */
  function judgeRemindersNow(): ReminderVerdict {
    const r = plan.reminders;
    const pollIntervalMs = plan.pollIntervalSec * 1000;
    const texts = new Map(fake.messages().map((m) => [`${m.chatId}:${m.messageId}`, m.plainText]));
    const messages: BotMessage[] = sent.map((m) => ({
      chatId: m.chatId,
      messageId: m.messageId,
      at: m.at,
      plain: texts.get(`${m.chatId}:${m.messageId}`) ?? "",
      replyTo: replyToOf(m.call),
      sentIds: m.sentIds,
      answerLost: m.call?.response === CONNECTION_RESET,
    }));
    const changes: TruthChange[] = [
      ...incidents.flatMap((incident) =>
        emu.state.transitionsOf(incident.id).map((h) => ({
          incidentId: incident.id,
          at: Date.parse(h.timestamp) - t0,
          status: h.nextStatus as string,
        })),
      ),
      ...emu.state.updatesOf().flatMap((u) =>
        u.status === 204 && typeof u.body === "object" && u.body !== null && "assigned" in u.body
          ? [
              {
                incidentId: u.incidentId,
                at: Date.parse(u.at) - t0,
                assigned: (u.body as { assigned: string | null }).assigned || null,
              },
            ]
          : [],
      ),
      ...uiAssigns,
    ];
    const created = new Map(emu.state.listAll().map((i) => [i.id, Date.parse(i.created) - t0]));
    // Nobody could act: a process down until it started and polled once; with several, no leader.
    const down: Stretch[] = [];
    if (several) {
      const terms = [...registry.terms].sort((a, b) => a.startedAt - b.startedAt);
      for (const term of terms) {
        if (term.endedAt === null) continue;
        const next = terms.find((x) => x.startedAt >= term.endedAt!);
        down.push({ from: term.endedAt, to: (next?.startedAt ?? clock()) + 2_000, what: "no leader" });
      }
    } else {
      registry.instances.forEach((instance, i) => {
        if (instance.endedAt === null) return;
        const next = registry.instances[i + 1];
        const to = next?.readyAt ?? next?.startedAt ?? clock();
        down.push({ from: instance.endedAt, to: to + pollIntervalMs + 1_000, what: `process #${i} down` });
      });
    }
    const processEnds = several
      ? registry.terms.flatMap((t) => (t.endedAt !== null ? [t.endedAt] : []))
      : registry.instances.flatMap((i) => (i.endedAt !== null && i.endedBy !== "self" ? [i.endedAt] : []));
    const unavailable: Stretch[] = [];
    if (bob.blockedAt !== null)
      unavailable.push({
        from: bob.blockedAt,
        to: bob.reallowedAt ?? Number.POSITIVE_INFINITY,
        chatId: BOB.id,
        what: "Bob blocked the bot",
      });
    if (migratedAt !== null)
      unavailable.push({
        from: migratedAt,
        to: Number.POSITIVE_INFINITY,
        chatId: GROUP_ID,
        what: "the group became a supergroup",
      });
    const model = new RoutingModel({ silentBelow: plan.silentBelow, changes: ruleChanges() });
    const factsOf = new Map(incidents.map((i) => [i.id, i.facts]));
    const groupOf = (chatId: number) =>
      chatId === ALICE.id ? ALICE_GROUP : chatId === GROUP_ID || chatId === SUPERGROUP_ID ? SOC_GROUP : null;
    const answers = fake.answeredCallbacks();
    return judgeReminders({
      settings: {
        pollIntervalMs,
        remindAfterMs: r.remindAfterSec * 1000,
        remindEveryMs: r.remindEverySec * 1000,
        remindMax: r.remindMax,
        minSeverity: r.minSeverity,
        escalation: {
          afterMs: r.escalation.afterSec * 1000,
          chatId: ESCALATION_ID,
          minSeverity: r.escalation.minSeverity,
        },
      },
      incidents: incidents.map((i) => ({
        id: i.id,
        key: i.key,
        appearedAt: i.appearedAt,
        createdAt: created.get(i.id) ?? i.appearedAt,
        severity: i.facts?.severity ?? null,
      })),
      changes,
      lagChanges,
      messages,
      chatIds: [ALICE.id, BOB.id, GROUP_ID, SUPERGROUP_ID],
      calls: callRecords().map((c) => ({
        at: c.at,
        method: c.method,
        chatId: c.chatId,
        ok: c.errorCode === null && !c.answerLost,
        retryAfter: c.retryAfter,
      })),
      siemTrouble,
      telegramTrouble,
      down,
      processEnds,
      unavailable,
      snoozes: snoozes.map(({ callbackId, ...p }) => ({
        ...p,
        accepted: snoozeAccepted(answers.get(callbackId)?.text, answers.has(callbackId)),
      })),
      mayBeMuted: (chatId, incidentId, from, to) => {
        const group = groupOf(chatId);
        const facts = factsOf.get(incidentId);
        return group !== null && facts !== undefined && model.mayMute(group, facts, { from, to });
      },
      surelyMuted: (chatId, incidentId) => {
        const group = groupOf(chatId);
        const facts = factsOf.get(incidentId);
        return group === null || facts === undefined ? [] : model.sureMutes(group, facts);
      },
      endAt: clock(),
    });
  }

  /**
   * The admin changes a chat's filter or mutes from their private chat, naming the chat by its id: the
   * group's current one (the supergroup's once the service has written there). Not awaited: the reply is
   * matched when judging.
   */
  function sendRuleCommand(action: Extract<ChaosAction, { kind: "filter" | "mute" | "unmute" }>): void {
    const chatId =
      action.chat === "alice"
        ? ALICE.id
        : sent.some((m) => m.chatId === SUPERGROUP_ID)
          ? SUPERGROUP_ID
          : GROUP_ID;
    const group = groupOfRoutedChat(action.chat);
    const tag = `chaos-${ruleCommands.length + 1}`;
    let text: string;
    let matchers = action.kind === "unmute" ? null : action.matchers;
    let durationMs = 0;
    if (action.kind === "filter")
      text = `/filter ${chatId} ${matchers === null ? "off" : matchersText(matchers)}`;
    else if (action.kind === "mute") {
      durationMs = action.seconds * 1000;
      matchers = action.matchers;
      const what = matchers.length > 0 ? ` ${matchersText(matchers)}` : "";
      text = `/mute ${chatId} ${action.seconds}s${what} -- ${tag}`;
    } else text = `/unmute ${chatId}`;
    const sentAt = clock();
    fake.sendText(ADMIN, ADMIN.id, text);
    ruleCommands.push({
      change: { group, kind: action.kind, matchers, durationMs, sentAt },
      chatId,
      tag,
      text,
    });
    const kind = action.kind === "filter" && matchers === null ? "filter off" : action.kind;
    routingCounts[kind] = (routingCounts[kind] ?? 0) + 1;
    say(`  +${sentAt} ms: ${text}`);
  }

  async function execute(action: ChaosAction): Promise<void> {
    const { state } = emu;
    switch (action.kind) {
      case "incident":
        remember([state.addIncident({ severity: action.severity, eventsCount: action.events })], "single");
        return;
      case "burst":
        remember(state.addBurst(action.count), "burst");
        return;
      case "late":
        remember([state.addIncident({ created: new Date(Date.now() - action.ageMs) })], "late");
        return;
      case "future":
        remember([state.addIncident({ createdOffsetMs: action.aheadMs })], "future");
        return;
      case "quietEvents": {
        if (incidents.length === 0) return;
        const target = incidents[Math.min(incidents.length - 1, Math.floor(action.pick * incidents.length))]!;
        state.addEvents(target.id, { count: action.count, touchModified: false });
        break;
      }
      case "readLag":
        state.setReadModelLag(action.ms);
        lagChanges.push({ at: clock(), ms: action.ms });
        if (action.ms === 0) return; // the end of a lagging phase is not a fault of its own
        break;
      case "incidentFault": {
        if (incidents.length === 0) return;
        const target = incidents[Math.min(incidents.length - 1, Math.floor(action.pick * incidents.length))]!;
        // Its reads fail until the bot has made them (a change, a reminder's re-read), then back off.
        trouble(siemTrouble, `incident fault ${action.fault} ×${action.count}`, 90_000, {
          incidentId: target.id,
        });
        state.failIncident(target.id, {
          ...(action.fault === "malformed"
            ? { malformed: true }
            : { status: action.fault === "500" ? 500 : 403 }),
          count: action.count,
        });
        break;
      }
      case "siemStatus": {
        if (incidents.length === 0) return;
        const target = incidents[Math.min(incidents.length - 1, Math.floor(action.pick * incidents.length))]!;
        const current = state.get(target.id)?.status;
        const others = STATUSES.filter((s) => s !== current);
        state.setStatus(
          target.id,
          others[action.choice % others.length]!,
          "changed in the SIEM UI (chaos run)",
        );
        statusChanges++;
        return;
      }
      case "siem503":
        trouble(siemTrouble, `503 for ${action.seconds} s`, action.seconds * 1000);
        state.failWith503(action.seconds);
        break;
      case "siemMalformed":
        trouble(siemTrouble, `malformed ×${action.count}`, 2 ** action.count * 1000);
        state.malformedJson(action.count);
        break;
      case "siemHang":
        trouble(siemTrouble, `hang ×${action.count}`, action.count * 4_000);
        state.hang(action.count);
        break;
      case "siemLatency":
        if (slow.since !== null) {
          siemTrouble.push({
            from: slow.since.at,
            to: clock() + 4 * slow.since.ms,
            what: `latency ${slow.since.ms} ms`,
          });
          slow.since = null;
        }
        if (action.ms > 0) slow.since = { at: clock(), ms: action.ms };
        state.setLatency(action.ms);
        if (action.ms === 0) return; // the end of a slow phase is not a fault of its own
        break;
      case "tokenExpiry":
        trouble(siemTrouble, "tokens expired", 2_000);
        state.expireAllTokens();
        break;
      case "tg429":
        trouble(telegramTrouble, `429 ×${action.times}`, action.retryAfter * 1000 * action.times + 2_000);
        fake.failNext(
          action.method,
          {
            code: 429,
            description: `Too Many Requests: retry after ${action.retryAfter}`,
            retryAfter: action.retryAfter,
          },
          action.times,
        );
        break;
      case "tg5xx": {
        const description = { 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };
        trouble(telegramTrouble, `${action.code} ×${action.times}`, 10_000 * action.times);
        fake.failNext(
          action.method,
          { code: action.code, description: description[action.code] },
          action.times,
        );
        break;
      }
      case "tgReset":
        trouble(telegramTrouble, `reset ×${action.count}`, 5_000 * action.count);
        fake.resetConnections(
          action.count,
          action.afterProcessing ? { afterProcessing: true, method: "sendMessage" } : undefined,
        );
        fault(action.afterProcessing ? "tgResetAfterSend" : "tgReset");
        return;
      case "tgOutage":
        // The backoff after it may be as long again.
        trouble(telegramTrouble, `outage ${action.ms} ms`, 2 * action.ms + 2_000);
        fake.outage(action.ms, { mode: action.mode });
        break;
      case "block":
        if (action.withUpdate) fake.setMembership(BOB.id, "kicked", BOB);
        else fake.blockBot(BOB.id);
        bob.blockedAt = clock();
        break;
      case "unblock":
        fake.setMembership(BOB.id, "member", BOB);
        bob.unblockedAt = clock();
        reallowTask = sleep(1_500).then(reallowBob);
        break;
      case "migrate":
        fake.migrateChat(GROUP_ID, SUPERGROUP_ID);
        migratedAt = clock();
        break;
      case "adminCommand":
        fake.sendText(ADMIN, ADMIN.id, action.text);
        break;
      case "filter":
      case "mute":
      case "unmute":
        sendRuleCommand(action);
        return;
      case "press":
        pressSomething(action);
        return;
      case "lookup":
        lookUp(action);
        return;
      case "snooze":
        snoozeSomething(action);
        return;
      case "siemAssign":
        assignInUi(action);
        return;
      case "link": {
        const text = `/link ${ALICE.id} ${ALICE_MP_LOGIN}`;
        links.push({ userId: ALICE.id, mpUserId: aliceMp.id, at: clock() });
        fake.sendText(ADMIN, ADMIN.id, text);
        say(`  +${clock()} ms: ${text}`);
        return;
      }
      case "kill": {
        if (action.target !== undefined) {
          const target = await findSlot(action.target);
          if (target === null) {
            leadership.skipped++;
            say(`  +${clock()} ms: no ${action.target} to ${action.signal}; skipped`);
            return;
          }
          const victim = target.current;
          let how = "";
          if (action.midSend) {
            // Signalled inside the fake's handling of its next incident message, before the answer leaves.
            const hit = await new Promise<boolean>((done) => {
              const timer = setTimeout(() => {
                armed = null;
                done(false);
              }, MID_SEND_WITHIN_MS);
              armed = {
                instance: victim,
                fire: () => {
                  clearTimeout(timer);
                  target.signalNow(action.signal);
                  done(true);
                },
              };
            });
            how = hit ? " mid-send" : " (no send within 5 s)";
            if (hit) leadership.midSend++;
          }
          say(
            `  +${clock()} ms: ${action.signal} the ${action.target} ${target.slot} (process #${victim})${how}, restart in ${action.restartAfterMs} ms`,
          );
          (action.target === "leader" ? leadership.leaderKills : leadership.standbyKills)[action.signal]++;
          await target.kill(action.signal, action.restartAfterMs);
          break;
        }
        say(
          `  +${clock()} ms: ${action.signal} process #${service!.current}, restart in ${action.restartAfterMs} ms`,
        );
        await service!.kill(action.signal, action.restartAfterMs);
        break;
      }
      case "pgTerminate": {
        const leader = await findSlot("leader");
        const pid = leader?.pid ?? null;
        if (leader === null || pid === null || dbUrl === null) {
          leadership.skipped++;
          say(`  +${clock()} ms: no leader whose connections to end; skipped`);
          return;
        }
        let done: Terminated;
        try {
          done =
            action.scope === "lease"
              ? await terminateLeaseConnection(dbUrl, leader.slot!)
              : await terminateConnectionsOf(dbUrl, pid);
        } catch (error) {
          notes.push(
            `pg_terminate_backend at +${clock()} ms failed in the runner: ${(error as Error).message}`,
          );
          return;
        }
        leadership.pgTerminate[action.scope]++;
        leadership.pgTerminate.backendsEnded += done.ended;
        say(`  +${clock()} ms: pg_terminate_backend of the leader ${leader.slot}'s ${done.what}`);
        fault(action.scope === "lease" ? "pgTerminateLease" : "pgTerminateAll");
        return;
      }
    }
    fault(action.kind === "kill" ? action.signal : action.kind);
  }

  /**
   * The instance leading now (its process in an open term), or one standing by; waits up to 10 s for
   * one (a takeover, a restart under way), else null.
   */
  async function findSlot(role: "leader" | "standby"): Promise<ServiceProcess | null> {
    const deadline = Date.now() + FIND_TARGET_WITHIN_MS;
    for (;;) {
      const leader = slots.find((s) => s.openTerm() !== undefined) ?? null;
      const found =
        role === "leader"
          ? leader
          : (slots.find((s) => s.running && s !== leader && leader !== null) ?? null);
      if (found !== null || Date.now() >= deadline) return found;
      await sleep(100);
    }
  }

  /** The process a Telegram call came from (its tagging proxy's parameter). */
  function processOf(call: RecordedCall | undefined): number | null {
    const tag = Number(call?.params[PROCESS_PARAM]);
    return Number.isInteger(tag) ? tag : null;
  }

  let keptDir: string | null = null;
  try {
    if (!several) {
      await slots[0]!.start();
      say(`service process #0 started (database ${dbPath})`);
    } else {
      for (const slot of slots) {
        await slot.start();
        say(`instance ${slot.slot} started (process #${slot.current}, PostgreSQL)`);
      }
    }

    // The chaos phase: the plan, action by action, at its offsets.
    const chaosStart = Date.now();
    for (const { atMs, action } of plan.actions) {
      const wait = chaosStart + atMs - Date.now();
      if (wait > 0) await sleep(wait);
      try {
        await execute(action);
      } catch (error) {
        notes.push(`action ${action.kind} at +${atMs} ms failed in the runner: ${(error as Error).message}`);
      }
    }
    const chaosEnd = Date.now() + Math.max(0, chaosStart + opts.durationMs - Date.now());
    await sleep(chaosEnd - Date.now());

    await Promise.all(followUps);
    // Settling: faults off, the service up, Bob allowed again, then wait until nothing is missing.
    say(`chaos phase over at +${clock()} ms: faults off, settling`);
    if (slow.since !== null) {
      siemTrouble.push({
        from: slow.since.at,
        to: clock() + 4 * slow.since.ms,
        what: `latency ${slow.since.ms} ms`,
      });
      slow.since = null;
    }
    if (lagChanges.at(-1)?.ms) lagChanges.push({ at: clock(), ms: 0 });
    emu.state.clearFaults();
    fake.outage(0);
    for (const slot of slots) {
      await slot.settled();
      if (!slot.running) await slot.start().catch((e: Error) => notes.push(e.message));
    }
    await reallowTask;

    const settleStart = Date.now();
    const settleTimeout = opts.settleTimeoutMs ?? 180_000;
    let verdict = judgeNow();
    /** What settling waited for, and until when (ms into settling): the summary says. */
    const waitedOn: Record<string, number> = {};
    for (;;) {
      const running = slots.find((s) => s.running);
      const depth = running ? await outboxDepth(ports.get(running)!) : null;
      if (verdict.missing === 0 && verdict.staleStatus === 0 && depth === 0) break;
      const waited = Date.now() - settleStart;
      if (verdict.missing > 0) waitedOn.missing = waited;
      if (verdict.staleStatus > 0) waitedOn["stale copies"] = waited;
      if (depth !== 0) waitedOn.outbox = waited;
      if (Date.now() - settleStart > settleTimeout) {
        if (depth !== 0)
          notes.push(`the outbox still held ${depth ?? "an unknown number of"} rows at the end`);
        break;
      }
      await sleep(1_000);
      verdict = judgeNow();
    }
    const settleMs = Date.now() - settleStart;
    const waits = Object.entries(waitedOn).map(([what, ms]) => `${what} until +${(ms / 1000).toFixed(0)} s`);
    if (waits.length > 0) notes.push(`settling waited on ${waits.join(", ")}`);
    await sleep(QUIET_AFTER_SETTLE_MS);

    // Several instances: exactly one leads at the end, by its own word and by the lease row.
    let finalLeader: string | null = null;
    const endViolations: string[] = [];
    if (several) {
      const roles = await Promise.all(slots.map(async (s) => `${s.slot}: ${await roleOf(ports.get(s)!)}`));
      const leaders = roles.filter((r) => r.endsWith(": leader"));
      const holder = await leaseHolder(dbUrl!);
      if (leaders.length === 1 && leaders[0]!.startsWith(`${holder}:`)) finalLeader = holder;
      else {
        endViolations.push(
          `at the end ${leaders.length} instances lead (${roles.join(", ")}; the lease row names ${holder ?? "nobody"})`,
        );
      }
    }

    // The standbys first, the leader last: nobody takes over while the run is ending.
    const stopOrder = [...slots].sort(
      (a, b) => Number(a.openTerm() !== undefined) - Number(b.openTerm() !== undefined),
    );
    const stops: Array<{ slot: ServiceProcess; stop: { code: number | null; ms: number } | null }> = [];
    for (const slot of stopOrder) stops.push({ slot, stop: await slot.stop() });
    for (const slot of slots) await slot.drained();
    queuedAt = await readQueueTimes().catch((error: Error) => {
      notes.push(
        `could not read when incidents were queued (routing judged on wider windows): ${error.message}`,
      );
      return undefined;
    });
    // Judged after the stop: whatever the last process sent while stopping counts too.
    const finalVerdict = judgeNow();
    finalVerdict.violations.push(...endViolations);
    const workflowVerdict = judgeWorkflowNow();
    finalVerdict.violations.push(...workflowVerdict.violations);
    const reminderVerdict = judgeRemindersNow();
    finalVerdict.violations.push(...reminderVerdict.violations);
    const answers = fake.answeredCallbacks();
    const snoozesAccepted = snoozes.filter(
      (p) => snoozeAccepted(answers.get(p.callbackId)?.text) === true,
    ).length;
    for (const { slot, stop } of stops) {
      const who = several ? `instance ${slot.slot}` : "the service";
      if (stop === null) finalVerdict.violations.push(`${who} was not running at the end`);
      else if (stop.code !== 0) {
        finalVerdict.violations.push(
          several
            ? `the final graceful stop (SIGTERM) of instance ${slot.slot} ended with code ${stop.code} after ${stop.ms} ms`
            : `the final graceful stop (SIGTERM) ended with code ${stop.code} after ${stop.ms} ms`,
        );
      }
    }

    const kills = { SIGKILL: 0, SIGTERM: 0, forcedStops: 0 };
    for (const instance of registry.instances) {
      if (instance.endedBy === "SIGKILL") kills.SIGKILL++;
      if (instance.endedBy === "SIGTERM") kills.SIGTERM++;
      if (instance.endedBy === "SIGTERM" && instance.exitCode !== 0) kills.forcedStops++;
    }
    // The final stops are not the plan's kills.
    for (const { stop } of stops) if (stop !== null) kills.SIGTERM--;
    if (unanswered.length > 0) {
      notes.push(
        `no reply was seen to ${unanswered.length} routing command(s), judged as maybe in force from then on: ${unanswered.join("; ")}`,
      );
    }
    if (kills.forcedStops > 0) {
      notes.push(
        `${kills.forcedStops} graceful stop(s) under faults took longer than the CLI's 5 s and exited 1`,
      );
    }

    // Routing commands the service carried out, by its own audit log (read once every process has stopped).
    let carriedOut = 0;
    const audit = await openStore(dbTarget);
    try {
      carriedOut = (await audit.audit.recent(100_000)).filter(
        (e) => e.action.startsWith("routing.") && ["ok", "nothing_set", "none_running"].includes(e.result),
      ).length;
    } finally {
      await audit.close();
    }

    const report: ChaosReport = {
      seed: opts.seed,
      durationMs: opts.durationMs,
      pollIntervalSec: plan.pollIntervalSec,
      incidents: incidents.length,
      incidentsByKind,
      statusChanges,
      faults,
      kills,
      processes: registry.instances.length,
      verdict: finalVerdict,
      tooManyRequests: fake.stats().tooManyRequests,
      retryAfterBreaches: fake.stats().duringRetryAfter,
      settleMs,
      routing: { silentBelow: plan.silentBelow, commands: routingCounts, carriedOut },
      bobReallowed: bob.reallowedAt !== null,
      migrated: migratedAt !== null,
      notes,
      keptDir: null,
      shape,
      workflow: { lookups, linked: links.length > 0, pressesBy, verdict: workflowVerdict },
      reminders: {
        plan: plan.reminders,
        snoozes: snoozes.length,
        snoozesAccepted,
        siemAssigns: uiAssigns.length,
        verdict: reminderVerdict,
      },
      ...(several
        ? {
            leadership: {
              instances: shape.instances,
              leaseTtlSec: LEASE_TTL_SEC,
              terms: registry.terms.length,
              termEnds: countEnds(registry.terms),
              ...leadership,
              longestLeaderlessMs: longestLeaderless(registry.terms),
              conflicts: finalVerdict.leadership?.conflicts ?? 0,
              conflictsPerTakeoverMax: finalVerdict.leadership?.conflictsPerTakeoverMax ?? 0,
              finalLeader,
            },
          }
        : {}),
    };
    if (finalVerdict.violations.length > 0 && opts.keepOnFailure) {
      keptDir = tmp.dir;
      writeDiagnostics(keptDir);
    }
    report.keptDir = keptDir;
    return report;
  } catch (error) {
    if (opts.keepOnFailure) keptDir = tmp.dir;
    throw new Error(
      `chaos run (seed ${opts.seed}) could not run: ${(error as Error).message}` +
        (keptDir ? ` (service log: ${logFile})` : ""),
    );
  } finally {
    unsubscribe();
    await Promise.allSettled(slots.map((s) => s.abort()));
    await Promise.allSettled([emu.close(), fake.close(), ...proxies.map((p) => p.close())]);
    await cluster?.stop();
    if (keptDir === null) rmSync(tmp.dir, { recursive: true, force: true });
  }

  function judgeNow(): Verdict {
    const current = new Map<string, { text: string; plain: string }>();
    for (const m of fake.messages())
      current.set(`${m.chatId}:${m.messageId}`, { text: m.text, plain: m.plainText });
    const idOfKey = new Map(incidents.map((i) => [i.key, i.id]));
    const messages: MessageRecord[] = sent.map((s) => {
      const now = current.get(`${s.chatId}:${s.messageId}`);
      const plain = now?.plain ?? "";
      const digest = DIGEST_FIRST_LINE.test(plain.split("\n", 1)[0] ?? "");
      const statusLine = digest ? null : (/^Status: .*$/m.exec(plain)?.[0] ?? null);
      const digestMarks: Record<string, string> = {};
      if (digest) {
        for (const line of plain.split("\n")) {
          const found = DIGEST_LINE.exec(line);
          const id = found ? idOfKey.get(found[2]!) : undefined;
          if (id !== undefined) digestMarks[id] = found![1] ?? "";
        }
      }
      return {
        chatId: s.chatId,
        messageId: s.messageId,
        at: s.at,
        instance: s.instance,
        sentIds: s.sentIds,
        currentIds: now ? incidentIdsIn(now.text) : [],
        digest,
        statusLine,
        ...(digest ? { digestMarks } : {}),
        answerLost: s.call?.response === CONNECTION_RESET,
        silent:
          s.call?.params.disable_notification === true || s.call?.params.disable_notification === "true",
        marked: plain.includes(SILENT_MARK),
      };
    });
    const always = () => "owed" as const;
    const groups: ChatGroup[] = [
      { name: ALICE_GROUP, chatIds: [ALICE.id], duty: always, editableChatIds: [ALICE.id] },
      {
        name: BOB_GROUP,
        chatIds: [BOB.id],
        duty: (incident) => {
          if (bob.blockedAt === null || incident.appearedAt < bob.blockedAt)
            return bob.blockedAt === null ? "owed" : "optional";
          return bob.reallowedAt !== null && incident.appearedAt >= bob.reallowedAt ? "owed" : "optional";
        },
        editableChatIds: bob.blockedAt === null || bob.reallowedAt !== null ? [BOB.id] : [],
      },
      {
        name: SOC_GROUP,
        chatIds: [GROUP_ID, SUPERGROUP_ID],
        duty: always,
        // Telegram does not let the bot edit the old group's messages after the upgrade.
        editableChatIds: migratedAt === null ? [GROUP_ID] : [SUPERGROUP_ID],
      },
    ];
    const m = t("en").incident;
    const siemStatus = new Map(emu.state.listAll().map((i) => [i.id, i.status as string]));
    const calls = callRecords();
    const verdict = judge({
      incidents,
      messages,
      instances: registry.instances,
      groups,
      siemStatus,
      expectedStatusLine: (status) => `${m.labels.status}: ${m.status(status)}`,
      retryAfterBreaches: retryAfterBreaches(calls),
      ...(several ? { terms: registry.terms, calls } : {}),
      routing: { silentBelow: plan.silentBelow, changes: ruleChanges() },
      ...(queuedAt ? { queuedAt } : {}),
      // The escalation chat holds cards too (each escalation is kept up to date like an /inc card).
      lookupChatIds: [ADMIN.id, ESCALATION_ID],
    });
    // The plan draws only matchers the grammar allows (design.md §3): the bot must take every one.
    for (const text of refusedMatchers) verdict.violations.push(`the bot refused valid matchers: ${text}`);
    return verdict;
  }

  /**
   * The routing commands with the bot's replies to them, from the admin's chat. A reply names the chat by
   * its id and says what was done; the first unclaimed one after the command, of its kind, answers it (a
   * mute's, by the tag in its comment: every one, as a replay after a kill starts the mute again).
   */
  /**
   * When the service queued each incident, as its outbox rows say (all of an incident's rows are made in
   * one transaction, with the time of that moment): read once every process has stopped.
   */
  async function readQueueTimes(): Promise<Map<string, number>> {
    const opened = await openDatabase(dbTarget);
    try {
      const rows = await opened.db
        .selectFrom("outbox")
        .select(["incident_id", (eb) => eb.fn.min("created_at").as("queued")])
        .groupBy("incident_id")
        .execute();
      return new Map(rows.map((r) => [r.incident_id, Number(r.queued) - t0]));
    } finally {
      await opened.close();
    }
  }

  function ruleChanges(): RuleChange[] {
    const texts = new Map(fake.messages(ADMIN.id).map((m) => [m.messageId, m.plainText]));
    const replies = sent
      .filter((m) => m.chatId === ADMIN.id)
      .map((m) => ({ at: m.at, text: texts.get(m.messageId) ?? "", claimed: false }));
    const changes: RuleChange[] = [];
    refusedMatchers.length = 0;
    unanswered.length = 0;
    for (const { change, chatId, tag, text: command } of ruleCommands) {
      const names = new RegExp(`id ${chatId}(?!\\d)`);
      const later = replies.filter((r) => r.at >= change.sentAt);
      const claim = (test: (text: string) => boolean) => {
        const reply = later.find((r) => !r.claimed && test(r.text));
        if (reply) reply.claimed = true;
        return reply;
      };
      const refusal = (text: string) =>
        (names.test(text) && text.includes("does not receive incidents")) ||
        text.includes("Nothing was changed.");
      let confirmedAt: number[] = [];
      let refused = false;
      if (change.kind === "mute") {
        confirmedAt = later.filter((r) => r.text.includes(`Comment: ${tag}`)).map((r) => r.at);
      } else {
        const done =
          change.kind === "unmute"
            ? (text: string) =>
                names.test(text) &&
                (text.includes("incidents arrive with sound again") || text.includes("No mutes are running"))
            : change.matchers === null
              ? (text: string) =>
                  names.test(text) &&
                  (text.includes("receives everything again") || text.includes("has no filter"))
              : (text: string) =>
                  names.test(text) && text.includes(`now receives: ${canonicalText(change.matchers ?? [])}.`);
        const reply = claim((text) => done(text) || refusal(text));
        if (reply) {
          if (done(reply.text)) confirmedAt = [reply.at];
          else refused = true;
          if (reply.text.includes("Nothing was changed.")) refusedMatchers.push(reply.text);
        }
      }
      if (confirmedAt.length === 0 && !refused && change.kind === "mute") {
        const reply = claim(refusal);
        refused = reply !== undefined;
        if (reply?.text.includes("Nothing was changed.")) refusedMatchers.push(reply.text);
      }
      if (confirmedAt.length === 0 && !refused) unanswered.push(`"${command}" sent at +${change.sentAt} ms`);
      changes.push({ ...change, confirmedAt, refused });
    }
    return changes;
  }

  function callRecords(): CallRecord[] {
    return fake.calls.map((c) => {
      const answer =
        typeof c.response === "object" && c.response !== null ? (c.response as BotApiAnswer) : {};
      const chatId = Number(c.params.chat_id);
      return {
        at: c.at - t0,
        method: c.method,
        chatId: Number.isFinite(chatId) ? chatId : null,
        errorCode: answer.ok === false ? (answer.error_code ?? null) : null,
        retryAfter: answer.parameters?.retry_after ?? null,
        answerLost: c.response === CONNECTION_RESET,
        duringRetryAfter: c.duringRetryAfter,
        ...(several ? { instance: processOf(c) } : {}),
      };
    });
  }

  /** What a failed run leaves behind for the post-mortem, beside the service log and the database. */
  function writeDiagnostics(dir: string): void {
    const lines = (items: unknown[]) => items.map((x) => JSON.stringify(x)).join("\n");
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan, null, 1));
    writeFileSync(join(dir, "incidents.jsonl"), lines(incidents));
    writeFileSync(
      join(dir, "telegram-calls.jsonl"),
      lines(callRecords().map((c, i) => ({ seq: i + 1, ...c, messageId: fake.calls[i]?.params.message_id }))),
    );
    writeFileSync(join(dir, "sent-messages.jsonl"), lines(sent.map(({ call: _call, ...rest }) => rest)));
    // Reminders: every reminder, collapsed message and escalation, with what it replied to.
    const texts = new Map(fake.messages().map((m) => [`${m.chatId}:${m.messageId}`, m.plainText]));
    writeFileSync(
      join(dir, "reminders.jsonl"),
      lines(
        sent
          .map((m) => ({ ...m, text: texts.get(`${m.chatId}:${m.messageId}`) ?? "" }))
          .filter((m) => m.text.startsWith("⏰") || m.text.startsWith("🚨"))
          .map(({ call, ...m }) => ({ ...m, replyTo: replyToOf(call) })),
      ),
    );
    writeFileSync(join(dir, "snoozes.jsonl"), lines(snoozes));
    writeFileSync(join(dir, "siem-assigns.jsonl"), lines(uiAssigns));
    writeFileSync(join(dir, "processes.jsonl"), lines(registry.instances));
    // The workflow: every press, and every transition and PUT through the API, with runner times.
    writeFileSync(join(dir, "presses.jsonl"), lines(presses));
    writeFileSync(join(dir, "api-transitions.jsonl"), lines(apiTransitions()));
    writeFileSync(join(dir, "updates.jsonl"), lines(emu.state.updatesOf()));
    if (several) writeFileSync(join(dir, "terms.jsonl"), lines(registry.terms));
    // Routing: the commands with the replies matched to them, and the admin's chat as it reads.
    writeFileSync(join(dir, "rule-changes.jsonl"), lines(ruleChanges()));
    const adminTexts = new Map(fake.messages(ADMIN.id).map((m) => [m.messageId, m.plainText]));
    writeFileSync(
      join(dir, "admin-chat.jsonl"),
      lines(
        sent
          .filter((m) => m.chatId === ADMIN.id)
          .map((m) => ({ at: m.at, text: adminTexts.get(m.messageId) })),
      ),
    );
  }
}

/** The env settings (and the YAML file, for a file policy) of the run's reminder policies. */
function reminderSettings(r: ReminderPlan, dir: string): Record<string, string> {
  const env: Record<string, string> = {
    BOT_REMIND_AFTER: `${r.remindAfterSec}s`,
    BOT_REMIND_EVERY: `${r.remindEverySec}s`,
    BOT_REMIND_MAX: String(r.remindMax),
    BOT_REMIND_MIN_SEVERITY: r.minSeverity,
  };
  if (r.escalation.via === "env") {
    env.BOT_ESCALATE_AFTER = `${r.escalation.afterSec}s`;
    env.BOT_ESCALATE_CHAT = String(ESCALATION_ID);
    return env;
  }
  const file = join(dir, "chaos-config.yaml");
  const match: Record<SeverityWord, string> = { low: "", medium: "severity>=medium", high: "severity>=high" };
  writeFileSync(
    file,
    [
      "escalation:",
      "  - name: chaos-escalation",
      ...(match[r.escalation.minSeverity] ? [`    match: "${match[r.escalation.minSeverity]}"`] : []),
      "    steps:",
      `      - after: ${r.escalation.afterSec}s`,
      "        action: notify",
      `        chat: ${ESCALATION_ID}`,
      "",
    ].join("\n"),
  );
  env.MPSIEM_TELEGRAM_CONFIG = file;
  return env;
}

/** reply_parameters.message_id of a sendMessage call (sent as JSON text or as an object). */
function replyToOf(call: RecordedCall | undefined): number | null {
  let value: unknown = call?.params.reply_parameters;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const id = (value as { message_id?: unknown } | undefined)?.message_id;
  return typeof id === "number" ? id : typeof id === "string" && /^\d+$/.test(id) ? Number(id) : null;
}

/** Whether the bot's answer to a Snooze press said it was snoozed (null: no answer seen). */
function snoozeAccepted(text: string | undefined, answered = true): boolean | null {
  if (!answered) return null;
  return text?.startsWith("Reminders and escalation snoozed") === true;
}

function groupOfRoutedChat(chat: RoutedChat): string {
  return chat === "alice" ? ALICE_GROUP : SOC_GROUP;
}

/** The role an instance's /healthz reports ("unreachable" when it does not answer). */
async function roleOf(port: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3_000) });
    return ((await res.json()) as { role?: string }).role ?? "no role";
  } catch {
    return "unreachable";
  }
}

/** Who the lease row names as its holder while the lease runs (null: nobody, or expired). */
async function leaseHolder(url: string): Promise<string | null> {
  try {
    return await asAdmin(url, async (c) => {
      const { rows } = await c.query<{ holder: string }>(
        "SELECT holder FROM leader_lease WHERE name = $1 AND expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint",
        [LEASE_NAME],
      );
      return rows[0]?.holder ?? null;
    });
  } catch {
    return null;
  }
}

function countEnds(terms: readonly TermRecord[]): Record<string, number> {
  const ends: Record<string, number> = {};
  for (const term of terms) if (term.endedBy !== null) ends[term.endedBy] = (ends[term.endedBy] ?? 0) + 1;
  return ends;
}

/** The longest gap between the end of one term and the start of the next (ms). */
function longestLeaderless(terms: readonly TermRecord[]): number {
  const ordered = [...terms].sort((a, b) => a.startedAt - b.startedAt);
  let longest = 0;
  for (let i = 1; i < ordered.length; i++) {
    const previousEnd = Math.max(...ordered.slice(0, i).map((t) => t.endedAt ?? Number.POSITIVE_INFINITY));
    if (Number.isFinite(previousEnd)) longest = Math.max(longest, ordered[i]!.startedAt - previousEnd);
  }
  return longest;
}

/** Pending outbox rows as /healthz reports them; null when it cannot be read. */
async function outboxDepth(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3_000) });
    const body = (await res.json()) as { outbox?: Record<string, number> };
    return Object.values(body.outbox ?? {}).reduce((a, b) => a + b, 0);
  } catch {
    return null;
  }
}

function repeatsLine(v: Verdict): string {
  const { repeats, killRepeats } = v;
  if (repeats.length === 0) return "none";
  const orphans = new Set(repeats.map((r) => r.orphan));
  const lost = repeats.filter((r) => r.cause === "lost answer").length;
  // One send window per chat: each kill (or lost lease) may leave one orphaned message in each chat.
  if (v.leadership === undefined) {
    const kills = killRepeats
      .map((k) => `#${k.instance} in chat ${k.chatId}: ${k.orphans.length}`)
      .join(", ");
    return (
      `${repeats.length} incident copies from ${orphans.size} orphaned messages ` +
      `(after kills: ${kills || "none"}; after lost answers: ${lost})`
    );
  }
  const ends = killRepeats
    .map(
      (k) =>
        `#${k.instance} epoch ${k.epoch} ${k.endedBy === "lost" ? "lost lease" : "killed"} in chat ${k.chatId}: ${k.orphans.length}`,
    )
    .join(", ");
  return (
    `${repeats.length} incident copies from ${orphans.size} orphaned messages ` +
    `(after kills and lost leases: ${ends || "none"}; after lost answers: ${lost})`
  );
}

function routingLine(r: ChaosReport): string {
  const commands = Object.entries(r.routing.commands)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const v = r.verdict.routing;
  const judged = v
    ? `; confirmed ${v.confirmed}, refused ${v.refused}, unanswered ${v.unconfirmed}, carried out by the audit log ${r.routing.carriedOut}; ` +
      `filtered out ${v.filteredOut} (incident, chat) pairs, ${v.filterStraddled} across a filter change; ` +
      `messages silent ${v.silentMessages}, with sound ${v.loudMessages}, ${v.soundStraddled} across a mute's start or end`
    : "";
  return `routing: BOT_SILENT_BELOW ${r.routing.silentBelow ?? "off"}; commands: ${commands || "none"}${judged}`;
}

function workflowLine(r: ChaosReport): string {
  const w = r.workflow;
  const v = w.verdict;
  const by = Object.entries(w.pressesBy)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const made = Object.entries(v.transitions)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return (
    `workflow: presses ${v.presses} (${by || "none"}; ${v.strangerPresses} by someone not allowed), answered ${v.answered}, ` +
    `unanswered after a kill ${v.unansweredAfterKill}; transitions through the bot: ${made || "none"} (${v.backward} back from a lagging read); ` +
    `assignments ${v.assignments}; /inc lookups ${w.lookups}; Alice linked: ${w.linked ? "yes" : "no"}`
  );
}

function remindersLine(r: ChaosReport): string {
  const { plan: p, verdict: v } = r.reminders;
  const excused = Object.entries(v.excused)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return (
    `reminders: after ${p.remindAfterSec} s every ${p.remindEverySec} s ×${p.remindMax} (from ${p.minSeverity}), ` +
    `escalation after ${p.escalation.afterSec} s (${p.escalation.via === "env" ? "BOT_ESCALATE_*" : "a file policy"}, from ${p.escalation.minSeverity}); ` +
    `sent ${v.single} reminders and ${v.collapsed} collapsed (${v.collapsedLines} lines), ${v.escalations} escalations; ` +
    `owed steps ${v.owed}, got ${v.got}, lost in flight at a process end ${v.lostInFlight}; escalations owed ${v.escalationsOwed}, got ${v.escalationsGot}; ` +
    `excused: ${excused || "none"}; not yet due at the end ${v.notYetDue}; sent after leaving New within the allowance ${v.afterLeavingWithinAllowance}; ` +
    `Snooze presses ${r.reminders.snoozes} (${r.reminders.snoozesAccepted} accepted); SIEM UI assignments ${r.reminders.siemAssigns}`
  );
}

function leadershipLines(l: LeadershipReport): string[] {
  const ends = Object.entries(l.termEnds)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return [
    `instances: ${l.instances} on one PostgreSQL database, lease TTL ${l.leaseTtlSec} s; leader kills: SIGKILL ${l.leaderKills.SIGKILL}, ` +
      `SIGTERM ${l.leaderKills.SIGTERM} (${l.midSend} of them mid-send); standby kills: SIGKILL ${l.standbyKills.SIGKILL}, SIGTERM ${l.standbyKills.SIGTERM}; ` +
      `pg_terminate_backend: lease connection ${l.pgTerminate.lease}, all connections ${l.pgTerminate.all} ` +
      `(${l.pgTerminate.backendsEnded} backends ended); skipped (no target then): ${l.skipped}`,
    `leaders' terms: ${l.terms} (${Math.max(0, l.terms - 1)} takeovers; ended: ${ends || "none"}); longest with nobody leading: ${(l.longestLeaderlessMs / 1000).toFixed(1)} s`,
    `getUpdates 409s: ${l.conflicts} (at most ${l.conflictsPerTakeoverMax} around one takeover; allowed ${MAX_CONFLICTS_PER_TAKEOVER}); leading at the end: ${l.finalLeader ?? "not exactly one instance"}`,
  ];
}

/** The summary printed at the end of a run (also what RESULTS.md records). */
export function formatReport(r: ChaosReport): string {
  const v = r.verdict;
  const lines = [
    `seed ${r.seed}, ${(r.durationMs / 60_000).toFixed(2)} min of chaos, poll interval ${r.pollIntervalSec} s`,
    `incidents: ${r.incidents} (${Object.entries(r.incidentsByKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}), SIEM UI status changes: ${r.statusChanges}`,
    `faults and events: ${
      Object.entries(r.faults)
        .filter(([k]) => k !== "SIGKILL" && k !== "SIGTERM")
        .map(([k, n]) => `${k} ${n}`)
        .join(", ") || "none"
    }`,
    `kills: SIGKILL ${r.kills.SIGKILL}, SIGTERM ${r.kills.SIGTERM} (forced ${r.kills.forcedStops}); service processes: ${r.processes}`,
    `deliveries: ${v.delivered} incident copies in ${v.singles} single messages and ${v.digests} digests; 429 answers: ${r.tooManyRequests}`,
    `repeats: ${repeatsLine(v)}`,
    `requests inside a retry_after window: ${r.retryAfterBreaches} (excused, their 429 answer lost on the way: ${v.excusedBreaches})`,
    routingLine(r),
    workflowLine(r),
    remindersLine(r),
    `Bob re-allowed: ${r.bobReallowed ? "yes" : "no"}; group migrated: ${r.migrated ? "yes" : "no"}; settled in ${(r.settleMs / 1000).toFixed(1)} s`,
    ...(r.leadership ? leadershipLines(r.leadership) : []),
    ...r.notes.map((n) => `note: ${n}`),
    `violations: ${v.violations.length}`,
    ...v.violations.map((x) => `  - ${x}`),
  ];
  if (r.keptDir) lines.push(`service log and database kept in ${r.keptDir}`);
  return lines.join("\n");
}
