// Runs the compiled CLI (dist/cli.js, what the package's bin points at) as a real child process.
// `npm test` builds dist/ first; when dist/ is missing or older than src/ (a bare `vitest run` during
// development) it is rebuilt here. Type errors are `npm run typecheck`'s job, so the build skips them.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_FAKE_TOKEN, type FakeBotApi, startFakeBotApi } from "../../src/botapi-fake/index.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { CLI_PATH, ensureBuilt } from "../helpers/build.js";

const cliPath = CLI_PATH;
let cwd: string;

const PASSWORD = "cli-test-password-value";
const BOT_TOKEN = "123456:cli-test-bot-token";

/** A valid configuration pointing at closed loopback ports: enough for everything that stops at config. */
const VALID_ENV = {
  MPSIEM_URL: "https://127.0.0.1:9",
  MPSIEM_USERNAME: "soc-bot",
  MPSIEM_PASSWORD: PASSWORD,
  MPSIEM_CLIENT_SECRET: "cli-test-client-secret",
  TELEGRAM_BOT_TOKEN: BOT_TOKEN,
  TELEGRAM_ADMIN_IDS: "111",
  TELEGRAM_API_ROOT: "http://127.0.0.1:9",
};

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "mpsiem-cli-"));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

/** Only what a child needs, so the developer's own settings cannot leak in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", HOME: cwd, BOT_DB_PATH: join(cwd, "bot.db"), ...extra };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess, timeoutMs: number): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`CLI did not exit within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      // Give the pipes a moment to drain what was written just before exit.
      setImmediate(() => done({ code, signal, stdout, stderr }));
    });
  });
}

function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<Finished> {
  return collect(
    spawn(process.execPath, [cliPath, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] }),
    timeoutMs,
  );
}

describe("mpsiem-telegram CLI", () => {
  it("is an executable script and --help lists the sub-commands", async () => {
    expect(readFileSync(cliPath, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const result = await runCli(["--help"], cleanEnv());
    expect(result.code).toBe(0);
    for (const command of ["run", "check", "emulator", "demo"]) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command} \\[options\\]`, "m"));
    }
  });

  it("documents --config and --follow on demo, and the emulator options", async () => {
    // run and check share demo's --config option definition; --config on run is exercised below.
    const demo = await runCli(["demo", "--help"], cleanEnv());
    expect(demo.stdout).toContain("--config <file>");
    expect(demo.stdout).toContain("--follow");
    const emulator = await runCli(["emulator", "--help"], cleanEnv());
    for (const option of [
      "--port",
      "--auth-port",
      "--host",
      "--seed",
      "--rate",
      "--tls",
      "--username",
      "--password",
      "--client-secret",
    ]) {
      expect(emulator.stdout).toContain(option);
    }
  });

  it("run with no configuration prints one 'config error:' line per problem and exits 2", async () => {
    const result = await runCli(["run"], cleanEnv());
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("config error: "))).toEqual([
      "config error: MPSIEM_URL: required",
      "config error: MPSIEM_USERNAME: required unless MPSIEM_TOKEN is set",
      "config error: MPSIEM_PASSWORD: required unless MPSIEM_TOKEN is set",
      "config error: MPSIEM_CLIENT_SECRET: required with a password login",
      "config error: TELEGRAM_BOT_TOKEN: required",
      "config error: TELEGRAM_ADMIN_IDS: required: at least one Telegram user id",
    ]);
    expect(lines.at(-1)).toBe("see README for every setting");
    expect(result.stderr).not.toContain("    at ");
    expect(result.stdout).toBe("");
  });

  it("run is the default command and reads --config", async () => {
    const file = join(cwd, "settings.yaml");
    writeFileSync(file, "MPSIEM_URLL: https://x.local\n");
    const result = await runCli(["--config", file], cleanEnv(VALID_ENV));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `config error: MPSIEM_URLL: unknown setting in ${file}; did you mean MPSIEM_URL?`,
    );
  });

  it("never prints a secret setting's value in a config error", async () => {
    const result = await runCli(
      ["check"],
      cleanEnv({ ...VALID_ENV, TELEGRAM_BOT_TOKEN: "not a token but secret-ish" }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("config error: TELEGRAM_BOT_TOKEN: is set but invalid");
    expect(result.stderr).not.toContain("secret-ish");
  });

  it("rejects a bad emulator option with a clear message", async () => {
    const result = await runCli(["emulator", "--port", "http"], cleanEnv());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--port <port>' argument 'http' is invalid");
  });
});

describe("mpsiem-telegram CLI against the emulator and a fake Bot API", () => {
  let emulator: RunningEmulator;
  let botApi: FakeBotApi;

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      authPort: 0,
      password: PASSWORD,
      clientSecret: "cli-test-client-secret",
    });
    botApi = await startFakeBotApi({ limits: false });
    botApi.addChat({ id: 111, type: "private", first_name: "Admin" });
  });
  afterAll(async () => {
    await Promise.all([emulator?.close(), botApi?.close()]);
  });

  /** A complete configuration for the loopback emulator and fake Bot API. */
  function liveEnv(): Record<string, string> {
    return {
      MPSIEM_URL: emulator.coreUrl,
      MPSIEM_AUTH_URL: emulator.authUrl,
      MPSIEM_USERNAME: "siem",
      MPSIEM_PASSWORD: PASSWORD,
      MPSIEM_CLIENT_SECRET: "cli-test-client-secret",
      TELEGRAM_BOT_TOKEN: botApi.token,
      TELEGRAM_ADMIN_IDS: "111",
      TELEGRAM_API_ROOT: botApi.apiRoot,
      BOT_POLL_INTERVAL: "1",
    };
  }

  it("check with a valid configuration (from .env in the working directory) prints ✓ and exits 0", async () => {
    writeFileSync(
      join(cwd, ".env"),
      Object.entries(liveEnv())
        .map(([k, v]) => `${k}=${v}`)
        .join("\n"),
    );
    const result = await runCli(["check"], cleanEnv());
    expect(result.stderr).toBe("");
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("✓ configuration valid");
    expect(lines).toContain("✓ admin 111: reachable (Admin)");
    expect(lines.find((l) => l.startsWith("✓ SIEM"))).toContain("MaxPatrol SIEM 26.1.7351");
    expect(lines.find((l) => l.startsWith("✓ Telegram"))).toMatch(/^✓ Telegram: bot @\S+/);
    expect(result.stdout).not.toMatch(/^✗/m);
    expect(result.code).toBe(0);
  });

  it("check with a wrong SIEM password prints the reason and the settings to fix, and exits 1", async () => {
    const wrong = "definitely-not-the-password";
    const result = await runCli(["check"], cleanEnv({ ...liveEnv(), MPSIEM_PASSWORD: wrong }));
    const failed = result.stdout.split("\n").find((l) => l.startsWith("✗ SIEM"));
    expect(failed).toBeDefined();
    expect(failed).toMatch(/MPSIEM_USERNAME and MPSIEM_PASSWORD/);
    expect(result.stdout).toContain("✓ Telegram");
    expect(result.stdout + result.stderr).not.toContain(wrong);
    expect(result.code).toBe(1);
  });

  it("check with an admin who never opened the bot says what to do, and exits 1", async () => {
    const result = await runCli(["check"], cleanEnv({ ...liveEnv(), TELEGRAM_ADMIN_IDS: "111,999" }));
    expect(result.stdout).toContain("✓ admin 111: reachable (Admin)");
    expect(result.stdout).toMatch(/^✗ admin 999: .*press Start/m);
    expect(result.code).toBe(1);
  });

  it("run starts with a valid configuration and exits 0 on SIGTERM, never printing secrets", async () => {
    const child = spawn(process.execPath, [cliPath, "run"], {
      cwd,
      env: cleanEnv({ ...liveEnv(), MPSIEM_TLS_VERIFY: "false" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const finished = collect(child, 20_000);
    let seen = "";
    await new Promise<void>((started, fail) => {
      const timer = setTimeout(() => fail(new Error(`no start-up line; got: ${seen}`)), 15_000);
      child.stdout?.on("data", (d) => {
        seen += d;
        if (seen.includes('"msg":"service started"')) {
          clearTimeout(timer);
          started();
        }
      });
      child.on("exit", () => fail(new Error(`exited before starting; got: ${seen}`)));
    });
    child.kill("SIGTERM");
    const result = await finished;
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(
      lines.some((l) => JSON.parse(l).level === 40 && JSON.parse(l).msg.includes("MPSIEM_TLS_VERIFY=false")),
    ).toBe(true);
    expect(result.stdout).toContain("SIGTERM received");
    expect(result.stdout).not.toContain(PASSWORD);
    expect(result.stdout).not.toContain(DEFAULT_FAKE_TOKEN);
  });
});
