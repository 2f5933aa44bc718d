import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSecrets, describeConfig, loadConfig } from "../../src/config/load.js";
import { secretValues } from "../../src/config/types.js";
import { configWorkspace } from "../helpers/config-workspace.js";

const PASSWORD = "pa55-w0rd-value";
const CLIENT_SECRET = "client-secret-value";
const BOT_TOKEN = "123456789:AAHsecret-bot-token_value";

/** A complete, valid password-login environment. */
const VALID: NodeJS.ProcessEnv = {
  MPSIEM_URL: "https://siem.example.local",
  MPSIEM_USERNAME: "soc-bot",
  MPSIEM_PASSWORD: PASSWORD,
  MPSIEM_CLIENT_SECRET: CLIENT_SECRET,
  TELEGRAM_BOT_TOKEN: BOT_TOKEN,
  TELEGRAM_ADMIN_IDS: "111111",
};

const workspace = configWorkspace("mpsiem-config-");
const { problemsOf } = workspace;

const writeYaml = workspace.writeFile;

describe("loadConfig: defaults", () => {
  it("fills every default from design.md §1 and types.ts", () => {
    const c = loadConfig({ env: VALID, cwd: workspace.dir });
    expect(c.siem).toEqual({
      url: "https://siem.example.local",
      authUrl: "https://siem.example.local:3334",
      username: "soc-bot",
      password: PASSWORD,
      clientId: "mpx",
      clientSecret: CLIENT_SECRET,
      token: undefined,
      caFile: undefined,
      tlsVerify: true,
      timeoutMs: 30_000,
    });
    expect(c.telegram).toEqual({
      botToken: BOT_TOKEN,
      adminIds: [111111],
      apiRoot: "https://api.telegram.org",
      proxy: undefined,
      pingAnimation: undefined,
    });
    expect(c.bot).toEqual({
      dbPath: join(workspace.dir, "data", "bot.db"),
      pollIntervalMs: 3_000,
      initialLookbackMs: 24 * 3_600_000,
      overlapMs: 10 * 60_000,
      changeWindowMs: 7 * 86_400_000,
      retentionMs: 90 * 86_400_000,
      timeZone: "Europe/Moscow",
      locale: "ru",
      maxEvents: 5,
      httpPort: 0,
      httpHost: "127.0.0.1",
      actionPolicy: "users",
      leaseTtlMs: 15_000,
      silentBelow: null,
      reminders: {
        remindAfterMs: 0,
        remindEveryMs: 30 * 60_000,
        remindMax: 3,
        remindMinSeverity: "low",
        escalateAfterMs: 0,
        escalateChatId: null,
      },
    });
    expect(c.logLevel).toBe("info");
  });

  it("derives the auth URL from MPSIEM_URL with port 3334, keeping scheme and host", () => {
    const c = loadConfig({ env: { ...VALID, MPSIEM_URL: "http://10.0.0.5:8080/core/" }, cwd: workspace.dir });
    expect(c.siem.url).toBe("http://10.0.0.5:8080/core");
    expect(c.siem.authUrl).toBe("http://10.0.0.5:3334");
  });

  it("keeps an explicit MPSIEM_AUTH_URL and strips trailing slashes from URLs", () => {
    const c = loadConfig({
      env: {
        ...VALID,
        MPSIEM_AUTH_URL: "https://auth.example.local:4444/",
        TELEGRAM_API_ROOT: "http://127.0.0.1:8081/",
      },
      cwd: workspace.dir,
    });
    expect(c.siem.authUrl).toBe("https://auth.example.local:4444");
    expect(c.telegram.apiRoot).toBe("http://127.0.0.1:8081");
  });

  it("parses every kind of value", () => {
    const caFile = join(workspace.dir, "ca.pem");
    writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const c = loadConfig({
      env: {
        ...VALID,
        MPSIEM_CA_FILE: "ca.pem",
        MPSIEM_TLS_VERIFY: "No",
        MPSIEM_TIMEOUT: "1m",
        TELEGRAM_ADMIN_IDS: " 1, 22 ,333,22 ",
        TELEGRAM_PROXY: "socks5://user:pw@127.0.0.1:1080",
        BOT_DB_PATH: "state/x.db",
        BOT_POLL_INTERVAL: "0.5",
        BOT_INITIAL_LOOKBACK: "0",
        BOT_OVERLAP_WINDOW: "1h30m",
        BOT_CHANGE_WINDOW: "2d",
        BOT_TIME_ZONE: "Asia/Yekaterinburg",
        BOT_LOCALE: "EN",
        BOT_MAX_EVENTS: "50",
        BOT_HTTP_PORT: "9100",
        BOT_ACTION_POLICY: "chat",
        LOG_LEVEL: "debug",
      },
      cwd: workspace.dir,
    });
    expect(c.siem.caFile).toBe(caFile);
    expect(c.siem.tlsVerify).toBe(false);
    expect(c.siem.timeoutMs).toBe(60_000);
    expect(c.telegram.adminIds).toEqual([1, 22, 333]);
    expect(c.telegram.proxy).toBe("socks5://user:pw@127.0.0.1:1080");
    expect(c.bot.dbPath).toBe(join(workspace.dir, "state", "x.db"));
    expect(c.bot.pollIntervalMs).toBe(500);
    expect(c.bot.initialLookbackMs).toBe(0);
    expect(c.bot.overlapMs).toBe(5_400_000);
    expect(c.bot.changeWindowMs).toBe(172_800_000);
    expect(c.bot.timeZone).toBe("Asia/Yekaterinburg");
    expect(c.bot.locale).toBe("en");
    expect(c.bot.maxEvents).toBe(50);
    expect(c.bot.httpPort).toBe(9100);
    expect(c.bot.actionPolicy).toBe("chat");
    expect(c.logLevel).toBe("debug");
  });

  it("accepts a personal access token instead of the password login", () => {
    const c = loadConfig({
      env: {
        MPSIEM_URL: VALID.MPSIEM_URL,
        MPSIEM_TOKEN: "pat-123",
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        TELEGRAM_ADMIN_IDS: "5",
      },
      cwd: workspace.dir,
    });
    expect(c.siem.token).toBe("pat-123");
    expect(c.siem.password).toBeUndefined();
  });

  it("treats empty variables as unset and ignores unknown ones", () => {
    const c = loadConfig({
      env: { ...VALID, BOT_LOCALE: "", SOME_OTHER_TOOL_SETTING: "x", PATH: "/bin" },
      cwd: workspace.dir,
    });
    expect(c.bot.locale).toBe("ru");
  });
});

describe("loadConfig: problems", () => {
  it("lists every missing required setting at once", () => {
    expect(problemsOf({})).toEqual([
      "MPSIEM_URL: required",
      "MPSIEM_USERNAME: required unless MPSIEM_TOKEN is set",
      "MPSIEM_PASSWORD: required unless MPSIEM_TOKEN is set",
      "MPSIEM_CLIENT_SECRET: required with a password login",
      "TELEGRAM_BOT_TOKEN: required",
      "TELEGRAM_ADMIN_IDS: required: at least one Telegram user id",
    ]);
  });

  it.each([
    ["MPSIEM_URL", "siem", 'MPSIEM_URL: expected an http(s) URL like https://siem.example.local, got "siem"'],
    [
      "MPSIEM_URL",
      "ftp://siem",
      'MPSIEM_URL: expected an http(s) URL like https://siem.example.local, got "ftp://siem"',
    ],
    ["MPSIEM_AUTH_URL", "siem:3334", "MPSIEM_AUTH_URL: expected an http(s) URL like"],
    [
      "TELEGRAM_ADMIN_IDS",
      "abc",
      'TELEGRAM_ADMIN_IDS: expected comma-separated numeric Telegram user ids, got "abc"',
    ],
    [
      "TELEGRAM_ADMIN_IDS",
      "12,@admin",
      "TELEGRAM_ADMIN_IDS: expected comma-separated numeric Telegram user ids",
    ],
    ["TELEGRAM_ADMIN_IDS", ",", "TELEGRAM_ADMIN_IDS: expected comma-separated numeric Telegram user ids"],
    ["BOT_POLL_INTERVAL", "-1", 'BOT_POLL_INTERVAL: expected seconds > 0 (fractions allowed), got "-1"'],
    ["BOT_POLL_INTERVAL", "0", 'BOT_POLL_INTERVAL: expected seconds > 0 (fractions allowed), got "0"'],
    ["BOT_POLL_INTERVAL", "0.1", 'BOT_POLL_INTERVAL: must be at least 0.2 seconds, got "0.1"'],
    [
      "BOT_INITIAL_LOOKBACK",
      "soon",
      'BOT_INITIAL_LOOKBACK: expected a duration like 0, 30m, 24h, got "soon"',
    ],
    ["BOT_OVERLAP_WINDOW", "10 minutes", "BOT_OVERLAP_WINDOW: expected a duration"],
    ["BOT_CHANGE_WINDOW", "week", "BOT_CHANGE_WINDOW: expected a duration"],
    ["MPSIEM_TIMEOUT", "0", "MPSIEM_TIMEOUT: expected a duration > 0"],
    ["BOT_TIME_ZONE", "Mars/Base", 'BOT_TIME_ZONE: unknown IANA time zone "Mars/Base"'],
    ["BOT_LOCALE", "de", 'BOT_LOCALE: expected ru or en, got "de"'],
    [
      "BOT_HTTP_PORT",
      "70000",
      'BOT_HTTP_PORT: expected a port number from 0 to 65535 (0 = off), got "70000"',
    ],
    ["BOT_HTTP_PORT", "http", "BOT_HTTP_PORT: expected a port number"],
    ["BOT_HTTP_HOST", "my host", "BOT_HTTP_HOST: expected a host name or IP address"],
    ["BOT_MAX_EVENTS", "51", 'BOT_MAX_EVENTS: expected a whole number from 0 to 50, got "51"'],
    ["BOT_MAX_EVENTS", "2.5", "BOT_MAX_EVENTS: expected a whole number from 0 to 50"],
    [
      "TELEGRAM_PROXY",
      "socks4://127.0.0.1:1080",
      "TELEGRAM_PROXY: expected a proxy URL starting with http://, https:// or socks5://",
    ],
    ["TELEGRAM_API_ROOT", "api.telegram.org", "TELEGRAM_API_ROOT: expected an http(s) URL"],
    [
      "MPSIEM_TLS_VERIFY",
      "maybe",
      'MPSIEM_TLS_VERIFY: expected true or false (also 1/0, yes/no), got "maybe"',
    ],
    ["BOT_ACTION_POLICY", "everyone", 'BOT_ACTION_POLICY: expected users or chat, got "everyone"'],
    ["LOG_LEVEL", "verbose", 'LOG_LEVEL: expected debug, info, warn or error, got "verbose"'],
    ["MPSIEM_CA_FILE", "missing.pem", "MPSIEM_CA_FILE: cannot read"],
  ])("%s=%j is reported", (name, value, problem) => {
    const problems = problemsOf({ ...VALID, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.startsWith(problem)).toBe(true);
  });

  it("rejects a CA file without a certificate", () => {
    writeFileSync(join(workspace.dir, "empty.pem"), "not a certificate");
    const problems = problemsOf({ ...VALID, MPSIEM_CA_FILE: "empty.pem" });
    expect(problems).toEqual([
      expect.stringMatching(/^MPSIEM_CA_FILE: expected a PEM file with at least one certificate/),
    ]);
  });

  it("reports all problems of all kinds together, in the documented order", () => {
    const problems = problemsOf({
      MPSIEM_URL: "siem",
      MPSIEM_TOKEN: "pat",
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      TELEGRAM_ADMIN_IDS: "abc",
      BOT_LOCALE: "de",
      BOT_TIME_ZONE: "Mars/Base",
      BOT_HTTP_PORT: "-5",
    });
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "MPSIEM_URL",
      "TELEGRAM_ADMIN_IDS",
      "BOT_TIME_ZONE",
      "BOT_LOCALE",
      "BOT_HTTP_PORT",
    ]);
  });

  it("still asks for the password login when other settings are broken too", () => {
    const problems = problemsOf({
      MPSIEM_URL: "nope",
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      TELEGRAM_ADMIN_IDS: "1",
    });
    expect(problems).toContain("MPSIEM_PASSWORD: required unless MPSIEM_TOKEN is set");
    expect(problems).toContain("MPSIEM_CLIENT_SECRET: required with a password login");
    expect(problems[0]).toMatch(/^MPSIEM_URL: expected an http\(s\) URL/);
  });

  it("puts every problem in the error message too", () => {
    try {
      loadConfig({ env: { ...VALID, BOT_LOCALE: "de", BOT_MAX_EVENTS: "x" }, cwd: workspace.dir });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('BOT_LOCALE: expected ru or en, got "de"');
      expect((error as Error).message).toContain("BOT_MAX_EVENTS:");
    }
  });
});

describe("loadConfig: secrets in problems", () => {
  it("never echoes the value of a secret setting", () => {
    const badToken = "Bearer my-very-secret-pat";
    const badBotToken = "leaked bot token value";
    const problems = problemsOf({
      ...VALID,
      MPSIEM_TOKEN: badToken,
      TELEGRAM_BOT_TOKEN: badBotToken,
      TELEGRAM_PROXY: "socks4://proxyuser:proxy-pass-value@127.0.0.1:1080",
    });
    const text = problems.join("\n");
    expect(problems).toEqual([
      expect.stringMatching(/^MPSIEM_TOKEN: is set but invalid/),
      expect.stringMatching(/^TELEGRAM_BOT_TOKEN: is set but invalid/),
      expect.stringMatching(/^TELEGRAM_PROXY: /),
    ]);
    for (const secret of ["my-very-secret-pat", "leaked bot token value", "proxy-pass-value", "proxyuser"]) {
      expect(text).not.toContain(secret);
    }
  });

  it("describeConfig shows every setting and hides the secrets", () => {
    const c = loadConfig({
      env: { ...VALID, TELEGRAM_PROXY: "http://u:proxy-pass-value@127.0.0.1:3128" },
      cwd: workspace.dir,
    });
    const described = describeConfig(c);
    expect(described.MPSIEM_PASSWORD).toBe("***");
    expect(described.MPSIEM_CLIENT_SECRET).toBe("***");
    expect(described.TELEGRAM_BOT_TOKEN).toBe("***");
    expect(described.MPSIEM_TOKEN).toBe("(not set)");
    expect(described.MPSIEM_AUTH_URL).toBe("https://siem.example.local:3334");
    expect(described.BOT_INITIAL_LOOKBACK).toBe("1d");
    expect(Object.keys(described)).toHaveLength(43);
    const text = JSON.stringify(described);
    for (const secret of [...configSecrets(c), BOT_TOKEN, PASSWORD, CLIENT_SECRET]) {
      expect(text).not.toContain(secret);
    }
  });

  it("configSecrets adds the proxy password to the secret values", () => {
    const c = loadConfig({
      env: { ...VALID, TELEGRAM_PROXY: "http://u:p%40ss-value@127.0.0.1:3128" },
      cwd: workspace.dir,
    });
    expect(configSecrets(c)).toEqual(
      expect.arrayContaining([...secretValues(c), "p%40ss-value", "p@ss-value"]),
    );
  });
});

describe("loadConfig: sources", () => {
  it("environment beats the YAML file, the file beats the defaults", () => {
    const file = writeYaml("settings.yaml", "BOT_LOCALE: en\nBOT_MAX_EVENTS: 7\nBOT_POLL_INTERVAL: 1.5\n");
    const c = loadConfig({ env: { ...VALID, BOT_MAX_EVENTS: "9" }, cwd: workspace.dir, configFile: file });
    expect(c.bot.maxEvents).toBe(9);
    expect(c.bot.locale).toBe("en");
    expect(c.bot.pollIntervalMs).toBe(1_500);
    expect(c.bot.timeZone).toBe("Europe/Moscow");
  });

  it("reads the whole configuration from YAML, including a list of admin ids", () => {
    const file = writeYaml(
      "all.yml",
      [
        "MPSIEM_URL: https://siem.example.local/",
        "MPSIEM_USERNAME: soc-bot",
        `MPSIEM_PASSWORD: "${PASSWORD}"`,
        `MPSIEM_CLIENT_SECRET: ${CLIENT_SECRET}`,
        `TELEGRAM_BOT_TOKEN: "${BOT_TOKEN}"`,
        "TELEGRAM_ADMIN_IDS: [111, 222]",
        "MPSIEM_TLS_VERIFY: false",
        "MPSIEM_TOKEN:",
        "MPSIEM_CA_FILE: ~",
        "BOT_PING_ANIMATION: null",
        "BOT_POLL_INTERVAL: 1.50",
      ].join("\n"),
    );
    const c = loadConfig({ env: {}, cwd: workspace.dir, configFile: file });
    expect(c.telegram.adminIds).toEqual([111, 222]);
    expect(c.siem.tlsVerify).toBe(false);
    expect(c.siem.password).toBe(PASSWORD);
    expect(c.siem.token).toBeUndefined();
    expect(c.siem.caFile).toBeUndefined();
    expect(c.telegram.pingAnimation).toBeUndefined();
    expect(c.bot.pollIntervalMs).toBe(1_500);
  });

  it("keeps YAML values as written, so a numeric-looking secret is not turned into a number", () => {
    const file = writeYaml(
      "numbers.yaml",
      "MPSIEM_PASSWORD: 0123\nMPSIEM_CLIENT_SECRET: 1e3\nMPSIEM_USERNAME: 0x1F\n",
    );
    const c = loadConfig({
      env: { ...VALID, MPSIEM_PASSWORD: "", MPSIEM_CLIENT_SECRET: "", MPSIEM_USERNAME: "" },
      cwd: workspace.dir,
      configFile: file,
    });
    expect(c.siem.password).toBe("0123");
    expect(c.siem.clientSecret).toBe("1e3");
    expect(c.siem.username).toBe("0x1F");
  });

  it("finds the file through MPSIEM_TELEGRAM_CONFIG, relative to the working directory", () => {
    writeYaml("via-env.yaml", "BOT_LOCALE: en\n");
    const c = loadConfig({ env: { ...VALID, MPSIEM_TELEGRAM_CONFIG: "via-env.yaml" }, cwd: workspace.dir });
    expect(c.bot.locale).toBe("en");
  });

  it("--config wins over MPSIEM_TELEGRAM_CONFIG", () => {
    writeYaml("a.yaml", "BOT_LOCALE: en\n");
    const b = writeYaml("b.yaml", "BOT_MAX_EVENTS: 3\n");
    const c = loadConfig({
      env: { ...VALID, MPSIEM_TELEGRAM_CONFIG: "a.yaml" },
      cwd: workspace.dir,
      configFile: b,
    });
    expect(c.bot.locale).toBe("ru");
    expect(c.bot.maxEvents).toBe(3);
  });

  it("names an unknown YAML key (with a suggestion) and still reports the other problems", () => {
    const file = writeYaml("typo.yaml", "MPSIEM_ULR: https://x.local\nBOT_LOCALE: de\nsomething_else: 1\n");
    const problems = problemsOf({ ...VALID }, file);
    expect(problems).toEqual([
      `MPSIEM_ULR: unknown setting in ${file}; did you mean MPSIEM_URL?`,
      `something_else: unknown setting in ${file}`,
      'BOT_LOCALE: expected ru or en, got "de"',
    ]);
  });

  it("rejects a map or list where one value belongs", () => {
    const file = writeYaml("nested.yaml", "BOT_MAX_EVENTS:\n  a: 1\nMPSIEM_URL: [x]\n");
    const problems = problemsOf({ ...VALID }, file);
    expect(problems).toEqual([
      `BOT_MAX_EVENTS: expected a single value in ${file}, got a map`,
      `MPSIEM_URL: expected a single value in ${file}, got a list`,
    ]);
  });

  it("reports a YAML syntax error or a missing file as the only problem", () => {
    const broken = writeYaml("broken.yaml", "MPSIEM_URL: [unclosed\n");
    const syntax = problemsOf({}, broken);
    expect(syntax).toHaveLength(1);
    expect(syntax[0]).toMatch(
      new RegExp(`^config file ${broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not valid YAML`),
    );

    const missing = problemsOf({ ...VALID }, join(workspace.dir, "nope.yaml"));
    expect(missing).toEqual([`config file ${join(workspace.dir, "nope.yaml")}: cannot read (ENOENT)`]);
  });

  it("rejects a YAML file that is not a map", () => {
    const file = writeYaml("list.yaml", "- MPSIEM_URL\n");
    expect(problemsOf({ ...VALID }, file)).toEqual([
      `config file ${file}: expected a map of SETTING_NAME: value lines (see README)`,
    ]);
  });

  it("reads .env from the working directory without touching process.env", () => {
    writeFileSync(
      join(workspace.dir, ".env"),
      Object.entries(VALID)
        .map(([k, v]) => `${k}=${v}`)
        .concat("BOT_LOCALE=en", "BOT_MAX_EVENTS=4")
        .join("\n"),
    );
    const before = { ...process.env };
    const c = loadConfig({ env: { BOT_MAX_EVENTS: "8" }, cwd: workspace.dir });
    expect(c.siem.password).toBe(PASSWORD);
    expect(c.bot.locale).toBe("en");
    expect(c.bot.maxEvents).toBe(8); // the real environment beats .env
    expect(process.env).toEqual(before);
  });

  it(".env beats the YAML file", () => {
    writeFileSync(join(workspace.dir, ".env"), "BOT_LOCALE=en\n");
    const file = writeYaml("s.yaml", "BOT_LOCALE: ru\nBOT_MAX_EVENTS: 2\n");
    const c = loadConfig({ env: VALID, cwd: workspace.dir, configFile: file });
    expect(c.bot.locale).toBe("en");
    expect(c.bot.maxEvents).toBe(2);
  });
});
