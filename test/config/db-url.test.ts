import { describe, expect, it } from "vitest";
import { configSecrets, describeConfig, loadConfig } from "../../src/config/load.js";
import { urlPasswordForms } from "../../src/config/types.js";
import { createLogger } from "../../src/log/logger.js";
import { configWorkspace } from "../helpers/config-workspace.js";

const VALID: NodeJS.ProcessEnv = {
  MPSIEM_URL: "https://siem.example.local",
  MPSIEM_TOKEN: "pat-value-123",
  TELEGRAM_BOT_TOKEN: "123456789:AAHsecret-bot-token_value",
  TELEGRAM_ADMIN_IDS: "111111",
};
// Characters that URL encoding changes: "@", "/", "+" and a space.
const DB_PASSWORD = "Db@Pass/w0rd+ x";
const DB_URL = `postgres://bot:${encodeURIComponent(DB_PASSWORD)}@db.example.local:5432/mpsiem_bot`;

const workspace = configWorkspace("mpsiem-config-");
const { problemsOf } = workspace;

describe("BOT_DB_URL", () => {
  it("is unset by default: the store is SQLite at BOT_DB_PATH", () => {
    const c = loadConfig({ env: VALID, cwd: workspace.dir });
    expect(c.bot.dbUrl).toBeUndefined();
    expect(describeConfig(c).BOT_DB_URL).toBe("(not set)");
  });

  it("accepts a postgres:// or postgresql:// URL as written", () => {
    for (const url of [DB_URL, "postgresql://bot@10.0.0.5/bot?sslmode=require", "postgres://h/db"]) {
      expect(loadConfig({ env: { ...VALID, BOT_DB_URL: url }, cwd: workspace.dir }).bot.dbUrl).toBe(url);
    }
  });

  it("stops start-up with a problem naming BOT_DB_URL, without echoing the value", () => {
    const cases: Array<[string, RegExp]> = [
      ["not a url s3cr3t", /^BOT_DB_URL: is set but invalid: expected a PostgreSQL URL like postgres:\/\//],
      ["mysql://u:s3cr3t@h/db", /^BOT_DB_URL: is set but invalid: expected a PostgreSQL URL like/],
      [
        "postgres://u:s3cr3t@h:5432",
        /^BOT_DB_URL: is set but invalid: expected the database name after the host/,
      ],
      [
        "postgres://u:s3cr3t@h/a/b",
        /^BOT_DB_URL: is set but invalid: expected the database name after the host/,
      ],
      [
        "postgres://u:s3cr3t%zz@h/db",
        /^BOT_DB_URL: is set but invalid: expected special characters .*\(URL-encoded\)/,
      ],
    ];
    for (const [url, problem] of cases) {
      const problems = problemsOf({ ...VALID, BOT_DB_URL: url });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(problem);
      expect(problems[0]).not.toContain("s3cr3t");
    }
  });

  it("is described without its credentials", () => {
    const c = loadConfig({ env: { ...VALID, BOT_DB_URL: DB_URL }, cwd: workspace.dir });
    expect(describeConfig(c).BOT_DB_URL).toBe("postgres://***@db.example.local:5432/mpsiem_bot");
  });

  it("makes its password a secret in every form: as written, as parsed, decoded", () => {
    const c = loadConfig({ env: { ...VALID, BOT_DB_URL: DB_URL }, cwd: workspace.dir });
    expect(configSecrets(c)).toEqual(
      expect.arrayContaining([encodeURIComponent(DB_PASSWORD), DB_PASSWORD, "pat-value-123"]),
    );
    // Written with characters a URL parser re-encodes ("^" becomes "%5E"): both forms are secrets.
    expect(urlPasswordForms("postgres://u:a^b@h/db")).toEqual(expect.arrayContaining(["a^b", "a%5Eb"]));
    expect(urlPasswordForms("postgres://u@h/db")).toEqual([]);
  });

  it("never reaches a log line, whether logged as the URL, a decoded password or inside an error", () => {
    const c = loadConfig({ env: { ...VALID, BOT_DB_URL: DB_URL }, cwd: workspace.dir });
    const lines: string[] = [];
    const { logger } = createLogger({
      level: "debug",
      secrets: configSecrets(c),
      destination: { write: (s: string) => lines.push(s) },
    });
    logger.info({ url: DB_URL }, "connecting");
    logger.warn({ err: new Error(`login failed with ${DB_PASSWORD}`) }, `retrying ${DB_URL}`);
    const text = lines.join("");
    expect(lines).toHaveLength(2);
    for (const form of [
      DB_PASSWORD,
      encodeURIComponent(DB_PASSWORD),
      JSON.stringify(DB_PASSWORD).slice(1, -1),
    ]) {
      expect(text).not.toContain(form);
    }
    expect(text).toContain("db.example.local:5432/mpsiem_bot");
  });
});
