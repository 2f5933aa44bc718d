// Secrets and files: the real CLI (`node dist/cli.js run`) runs against the MP SIEM emulator and the
// fake Bot API with distinctive secret values, is exercised (a wrong password, incidents, /debug, an
// action that fails, a revoked token), and then every place a secret could leak to is searched: every
// line the process printed, every request it made to Telegram, every SIEM comment it wrote, every
// table and column of its database and the raw bytes of its files. The files must be 0600, and TLS
// verification must be on by default.

import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  type FakeBotApi,
  type FakeMessage,
  type FakeUser,
  startFakeBotApi,
} from "../../src/botapi-fake/index.js";
import { loadConfig } from "../../src/config/load.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { t } from "../../src/i18n/index.js";
import { createSiemClient } from "../../src/siem/client.js";
import { SiemError } from "../../src/siem/types.js";
import { openStore } from "../../src/store/index.js";
import { ensureBuilt } from "../chaos/build.js";
import { CLI_PATH } from "../chaos/scenario.js";
import { tempDir } from "../helpers/tmp.js";

// Distinctive values, with characters that URL and JSON encoding change.
const PASSWORD = "Zeta+Pass/91 s3cr3t!";
const WRONG_PASSWORD = "wr0ng+Pass/77 s3cr3t?";
const CLIENT_SECRET = "cl1ent-S3CRET+omega/4471";
const PAT = "pat_S3CRET_kappa_8802_personal_token";
const BOT_TOKEN = "5550001:AAH-s3cr3tBotToken_xyz0123456789abcdefg";

const ADMIN: FakeUser = { id: 9101, username: "soc_admin", first_name: "Ada" };
const ALICE: FakeUser = { id: 4545, username: "alice", first_name: "Alice" };
const tx = t("en");

/** Every form a secret could take on the way out: as is, URL-encoded (path and form), JSON-escaped. */
function variants(secret: string): string[] {
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
    ]),
  ];
}

function leaksIn(where: string, haystack: string | Buffer, secrets: string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    for (const form of variants(secret)) {
      const hit =
        typeof haystack === "string" ? haystack.includes(form) : haystack.includes(Buffer.from(form));
      if (hit) found.push(`${where}: contains ${JSON.stringify(form)}`);
    }
  }
  return found;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function until(
  what: string,
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

interface Child {
  process: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
}

interface World {
  emu: RunningEmulator;
  fake: FakeBotApi;
  dir: string;
  dbPath: string;
  children: Child[];
  start(env: Record<string, string>): Promise<Child>;
  /** The admin's messages sent after `since` (an index into fake.messages(ADMIN.id)). */
  adminReplies(since: number): FakeMessage[];
  close(): Promise<void>;
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function startWorld(emulator: Parameters<typeof startEmulator>[0]): Promise<World> {
  await ensureBuilt();
  const tmp = tempDir("mpsiem-secrets-");
  const dbPath = join(tmp.dir, "data", "bot.db");
  const emu = await startEmulator({ seed: 5, ...emulator });
  const fake = await startFakeBotApi({ token: BOT_TOKEN, limits: false });
  fake.addChat({ id: ADMIN.id, type: "private", first_name: ADMIN.first_name, username: ADMIN.username });
  fake.addChat({ id: ALICE.id, type: "private", first_name: ALICE.first_name, username: ALICE.username });
  const store = await openStore(dbPath);
  await store.chats.remember({
    id: ALICE.id,
    kind: "private",
    firstName: ALICE.first_name,
    username: ALICE.username,
  });
  await store.chats.setState(ALICE.id, "allowed", ADMIN.id);
  await store.close();

  const children: Child[] = [];
  const w: World = {
    emu,
    fake,
    dir: tmp.dir,
    dbPath,
    children,
    async start(extra) {
      const child = spawn(process.execPath, [CLI_PATH, "run"], {
        cwd: tmp.dir,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: tmp.dir,
          MPSIEM_URL: emu.coreUrl,
          MPSIEM_AUTH_URL: emu.authUrl,
          MPSIEM_TIMEOUT: "3s",
          TELEGRAM_BOT_TOKEN: BOT_TOKEN,
          TELEGRAM_ADMIN_IDS: String(ADMIN.id),
          TELEGRAM_API_ROOT: fake.apiRoot,
          BOT_DB_PATH: dbPath,
          BOT_POLL_INTERVAL: "0.3",
          BOT_INITIAL_LOOKBACK: "1h",
          BOT_LOCALE: "en",
          // debug shows the most: request details, retries, everything a secret could hide in.
          LOG_LEVEL: "debug",
          ...extra,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout?.on("data", (d) => {
        output += d;
      });
      child.stderr?.on("data", (d) => {
        output += d;
      });
      const exited = new Promise<number | null>((done) =>
        child.on("exit", (code) => setImmediate(() => done(code))),
      );
      const handle: Child = {
        process: child,
        output: () => output,
        async stop() {
          child.kill("SIGTERM");
          return Promise.race([exited, sleep(10_000).then(() => null)]);
        },
      };
      children.push(handle);
      await until("the service starts", () => output.includes('"msg":"service started"'), 20_000);
      return handle;
    },
    adminReplies(since) {
      return fake.messages(ADMIN.id).slice(since);
    },
    async close() {
      for (const c of children) c.process.kill("SIGKILL");
      await Promise.allSettled([emu.close(), fake.close()]);
      tmp.cleanup();
    },
  };
  return w;
}

/** The admin sends a command and gets the reply that starts with `prefix`. */
async function adminAsks(w: World, command: string, prefix: string): Promise<string> {
  const before = w.fake.messages(ADMIN.id).length;
  w.fake.sendText(ADMIN, ADMIN.id, command);
  let reply: FakeMessage | undefined;
  await until(`a reply to ${command}`, () => {
    reply = w.adminReplies(before).find((m) => m.plainText.startsWith(prefix));
    return reply !== undefined;
  });
  return reply!.plainText;
}

/** Every incident delivered to Alice so far. */
function aliceIncidents(w: World): FakeMessage[] {
  return w.fake.messages(ALICE.id).filter((m) => m.text.includes("/incidents/view/"));
}

/** A button's callback data under a message, found by its label. */
function buttonData(message: FakeMessage, label: string): string {
  const rows = (
    message.replyMarkup as { inline_keyboard?: Array<Array<{ text: string; callback_data?: string }>> }
  )?.inline_keyboard;
  const button = (rows ?? []).flat().find((b) => b.text.includes(label));
  if (!button?.callback_data) throw new Error(`no ${label} button`);
  return button.callback_data;
}

/** The whole database as text (every table, every column) and the raw bytes of every file beside it. */
function databaseDump(dbPath: string): { tables: string; files: Array<{ name: string; bytes: Buffer }> } {
  const db = new SQLite(dbPath, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => (row as { name: string }).name);
    const dump = tables.map((name) => {
      const rows = db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`).all();
      return `${name}: ${JSON.stringify(rows)}`;
    });
    expect(tables).toEqual(expect.arrayContaining(["chats", "incidents", "outbox", "audit", "settings"]));
    const folder = join(dbPath, "..");
    const files = readdirSync(folder).map((name) => ({ name, bytes: readFileSync(join(folder, name)) }));
    return { tables: dump.join("\n"), files };
  } finally {
    db.close();
  }
}

/** The audit log, read beside the running service (WAL lets a reader in). */
function auditRows(dbPath: string): Array<{ action: string; result: string; detail: string | null }> {
  const db = new SQLite(dbPath, { readonly: true, timeout: 2_000 });
  try {
    return db.prepare("SELECT action, result, detail FROM audit").all() as Array<{
      action: string;
      result: string;
      detail: string | null;
    }>;
  } finally {
    db.close();
  }
}

function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

/** Searches everything the service produced; returns every leak found. */
function searchEverywhere(w: World, secrets: string[]): string[] {
  const leaks: string[] = [];
  w.children.forEach((c, i) => {
    leaks.push(...leaksIn(`output of process ${i}`, c.output(), secrets));
  });
  w.fake.calls.forEach((call) => {
    leaks.push(...leaksIn(`Bot API call #${call.seq} ${call.method}`, JSON.stringify(call.params), secrets));
  });
  for (const incident of w.emu.state.listAll()) {
    const comments = JSON.stringify(w.emu.state.transitionsOf(incident.id));
    leaks.push(...leaksIn(`SIEM history of ${incident.key}`, comments, secrets));
  }
  const { tables, files } = databaseDump(w.dbPath);
  // The search looks at real content: the dump holds the incidents and the chats the run produced.
  expect(leaksIn("database tables", tables, ["INC-", ALICE.username!])).toHaveLength(2);
  leaks.push(...leaksIn("database tables", tables, secrets));
  for (const file of files) leaks.push(...leaksIn(`file ${file.name}`, file.bytes, secrets));
  return leaks;
}

describe("secrets never leave the service", () => {
  it("password login: a wrong password, incidents, /debug and a failed action leak no password, client secret or bot token", async () => {
    const w = await startWorld({ password: PASSWORD, clientSecret: CLIENT_SECRET });
    world = w;
    const account = { MPSIEM_USERNAME: "siem", MPSIEM_CLIENT_SECRET: CLIENT_SECRET };

    // A wrong password: the login fails, is logged, and /debug shows the error.
    const wrong = await w.start({ ...account, MPSIEM_PASSWORD: WRONG_PASSWORD });
    await until("the failed login is logged", () => wrong.output().includes("invalid_username_or_password"));
    const debugWrong = await adminAsks(w, "/debug", tx.debug.title);
    expect(debugWrong).toContain("invalid_username_or_password");
    expect(await wrong.stop()).toBe(0);

    // The right password: incidents arrive; an action fails while the SIEM answers 503.
    const right = await w.start({ ...account, MPSIEM_PASSWORD: PASSWORD });
    w.emu.state.addBurst(3);
    await until("three incidents reach Alice", () => aliceIncidents(w).length >= 3);
    const [first] = aliceIncidents(w);
    w.emu.state.failWith503(30);
    const press = w.fake.pressButton(
      ADMIN,
      ALICE.id,
      first!.messageId,
      buttonData(first!, tx.buttons.approve),
    );
    // A slow failure is answered "working on it" at once; the failure itself lands in the audit log.
    await until("the press is answered", () => w.fake.answeredCallbacks().has(press));
    await until("the failed Approve is audited", () =>
      auditRows(w.dbPath).some((row) => row.action === "incident.approve" && row.result === "failed"),
    );
    w.emu.state.clearFaults();
    const debugRight = await adminAsks(w, "/debug", tx.debug.title);
    expect(debugRight).toContain(w.emu.coreUrl);

    // The files are private while the service runs (the WAL and its index exist only then).
    const folder = join(w.dbPath, "..");
    const files = readdirSync(folder);
    expect(files).toEqual(expect.arrayContaining(["bot.db", "bot.db-wal", "bot.db-shm", "bot.db.lock"]));
    for (const name of files) expect(`${name} ${modeOf(join(folder, name))}`).toBe(`${name} 600`);

    expect(await right.stop()).toBe(0);
    const secrets = [PASSWORD, WRONG_PASSWORD, CLIENT_SECRET, BOT_TOKEN];
    expect(searchEverywhere(w, secrets)).toEqual([]);
  }, 60_000);

  it("personal access token: a revoked token and /debug leak neither the token nor the bot token", async () => {
    const w = await startWorld({ personalTokens: [PAT] });
    world = w;
    const service = await w.start({ MPSIEM_TOKEN: PAT });
    w.emu.state.addIncident();
    await until("an incident reaches Alice", () => aliceIncidents(w).length >= 1);

    // The token stops working: the 401s are logged and shown in /debug, the token itself never.
    const before = service.output().length;
    w.emu.state.setPersonalTokens([]);
    w.emu.state.addIncident();
    await until("the refused token is logged", () =>
      service.output().slice(before).includes("the SIEM refused MPSIEM_TOKEN (HTTP 401)"),
    );
    const debug = await adminAsks(w, "/debug", tx.debug.title);
    expect(debug).toContain("MPSIEM_TOKEN (HTTP 401)");

    expect(await service.stop()).toBe(0);
    expect(searchEverywhere(w, [PAT, BOT_TOKEN])).toEqual([]);
  }, 60_000);
});

describe("TLS", () => {
  it("verifies the SIEM's certificate by default: an untrusted one fails with kind tls; trusting its CA works", async () => {
    const emu = await startEmulator({ tls: true });
    const tmp = tempDir("mpsiem-tls-");
    try {
      const env = {
        MPSIEM_URL: emu.coreUrl,
        MPSIEM_AUTH_URL: emu.authUrl,
        MPSIEM_USERNAME: "siem",
        MPSIEM_PASSWORD: "siem",
        MPSIEM_CLIENT_SECRET: "emulator-secret",
        TELEGRAM_BOT_TOKEN: "123456:TEST-TOKEN",
        TELEGRAM_ADMIN_IDS: "1",
      };
      const config = loadConfig({ env, cwd: tmp.dir });
      expect(config.siem.tlsVerify).toBe(true);
      const client = createSiemClient({ config: config.siem, retry: { attempts: 1 } });
      try {
        const error = await client.systemInfo().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(SiemError);
        expect((error as SiemError).kind).toBe("tls");
      } finally {
        await client.close();
      }

      // The same SIEM with its CA trusted: the failure above was about trust, nothing else.
      const caFile = join(tmp.dir, "ca.pem");
      writeFileSync(caFile, emu.caCertPem!);
      const trusted = loadConfig({ env: { ...env, MPSIEM_CA_FILE: caFile }, cwd: tmp.dir });
      const trustingClient = createSiemClient({ config: trusted.siem, retry: { attempts: 1 } });
      try {
        expect((await trustingClient.systemInfo()).productVersion).not.toBe("");
      } finally {
        await trustingClient.close();
      }
    } finally {
      await emu.close();
      tmp.cleanup();
    }
  });
});
