import { describe, expect, it } from "vitest";
import { configSecrets, describeConfig, loadConfig } from "../../src/config/load.js";
import { configWorkspace } from "../helpers/config-workspace.js";

const VALID: NodeJS.ProcessEnv = {
  MPSIEM_URL: "https://siem.example.local",
  MPSIEM_USERNAME: "soc-bot",
  MPSIEM_PASSWORD: "pa55-w0rd-value",
  MPSIEM_CLIENT_SECRET: "client-secret-value",
  TELEGRAM_BOT_TOKEN: "123456789:AAHsecret-bot-token_value",
  TELEGRAM_ADMIN_IDS: "111111",
};
const HOOK_SECRET = "hook_Secret-value-42";

const workspace = configWorkspace("mpsiem-config-");
const { problemsOf } = workspace;

describe("settings for several instances and webhook mode", () => {
  it("defaults: a 15 s lease, no instance name (host and pid are used), long polling", () => {
    const c = loadConfig({ env: VALID, cwd: workspace.dir });
    expect(c.bot.leaseTtlMs).toBe(15_000);
    expect(c.bot.instanceName).toBeUndefined();
    expect(c.telegram.webhook).toBeUndefined();
    expect(describeConfig(c)).toMatchObject({
      BOT_LEASE_TTL: "15s",
      BOT_INSTANCE_NAME: "(not set)",
      TELEGRAM_WEBHOOK_URL: "(not set)",
      TELEGRAM_WEBHOOK_SECRET: "(not set)",
    });
  });

  it("reads the lease TTL and the instance name, and names what is wrong with them", () => {
    const c = loadConfig({
      env: { ...VALID, BOT_LEASE_TTL: "3s", BOT_INSTANCE_NAME: "bot-2.dc1" },
      cwd: workspace.dir,
    });
    expect(c.bot.leaseTtlMs).toBe(3_000);
    expect(c.bot.instanceName).toBe("bot-2.dc1");
    expect(problemsOf({ ...VALID, BOT_LEASE_TTL: "0" })).toEqual([
      'BOT_LEASE_TTL: expected a duration from 1s to 10m, like 15s, got "0"',
    ]);
    expect(problemsOf({ ...VALID, BOT_LEASE_TTL: "1h" })[0]).toMatch(
      /^BOT_LEASE_TTL: expected a duration from 1s/,
    );
    expect(problemsOf({ ...VALID, BOT_INSTANCE_NAME: "bot one" })).toEqual([
      'BOT_INSTANCE_NAME: expected a name of 1-64 letters, digits and . _ : @ - (each instance its own, e.g. bot-1), got "bot one"',
    ]);
  });

  it("turns webhook mode on with a URL and a secret; host and port have defaults; the secret stays hidden", () => {
    const env = {
      ...VALID,
      TELEGRAM_WEBHOOK_URL: "https://bot.example.com/telegram/hook",
      TELEGRAM_WEBHOOK_SECRET: HOOK_SECRET,
    };
    const c = loadConfig({ env, cwd: workspace.dir });
    expect(c.telegram.webhook).toEqual({
      url: "https://bot.example.com/telegram/hook",
      secret: HOOK_SECRET,
      host: "127.0.0.1",
      port: 8443,
    });
    expect(configSecrets(c)).toContain(HOOK_SECRET);
    const described = describeConfig(c);
    expect(described.TELEGRAM_WEBHOOK_SECRET).toBe("***");
    expect(JSON.stringify(described)).not.toContain(HOOK_SECRET);
    const listening = loadConfig({
      env: { ...env, TELEGRAM_WEBHOOK_HOST: "0.0.0.0", TELEGRAM_WEBHOOK_PORT: "8080" },
      cwd: workspace.dir,
    });
    expect(listening.telegram.webhook).toMatchObject({ host: "0.0.0.0", port: 8080 });
  });

  it("names each webhook mistake: a missing or bad secret (never echoed), a secret alone, a bad URL or port", () => {
    const url = "https://bot.example.com/hook";
    expect(problemsOf({ ...VALID, TELEGRAM_WEBHOOK_URL: url })).toEqual([
      "TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL (1-256 characters A-Z a-z 0-9 _ -)",
    ]);
    const bad = problemsOf({ ...VALID, TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: "has space!" });
    expect(bad).toEqual([
      "TELEGRAM_WEBHOOK_SECRET: is set but invalid: expected 1-256 characters: letters A-Z a-z, digits, _ and -",
    ]);
    expect(bad.join(" ")).not.toContain("has space");
    expect(problemsOf({ ...VALID, TELEGRAM_WEBHOOK_SECRET: HOOK_SECRET })).toEqual([
      "TELEGRAM_WEBHOOK_URL: required with TELEGRAM_WEBHOOK_SECRET: set the URL for webhook mode, or remove the secret for long polling",
    ]);
    expect(
      problemsOf({ ...VALID, TELEGRAM_WEBHOOK_URL: "ftp://x/hook", TELEGRAM_WEBHOOK_SECRET: HOOK_SECRET }),
    ).toEqual([
      'TELEGRAM_WEBHOOK_URL: expected an https URL like https://bot.example.com/telegram/webhook, got "ftp://x/hook"',
    ]);
    expect(
      problemsOf({
        ...VALID,
        TELEGRAM_WEBHOOK_URL: url,
        TELEGRAM_WEBHOOK_SECRET: HOOK_SECRET,
        TELEGRAM_WEBHOOK_PORT: "70000",
      }),
    ).toEqual(['TELEGRAM_WEBHOOK_PORT: expected a port number from 1 to 65535, got "70000"']);
  });
});
