import { describe, expect, it } from "vitest";
import { createLogger, recentProblems, redactSecrets } from "../../src/log/logger.js";

const BOT_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0";
const PASSWORD = 'p@ss w/rd&"quoted"+ä';
const CLIENT_SECRET = "client-secret-7f3a";
const SECRETS = [BOT_TOKEN, PASSWORD, CLIENT_SECRET];

/** Every form in which a secret could end up in a log line. */
function forms(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
  ];
}

function capture(
  opts: { pretty?: boolean; ringSize?: number; level?: "debug" | "info" | "warn" | "error" } = {},
) {
  const written: string[] = [];
  const { logger, ring } = createLogger({
    level: opts.level ?? "debug",
    secrets: SECRETS,
    pretty: opts.pretty,
    ringSize: opts.ringSize,
    destination: { write: (s: string) => written.push(s) },
  });
  return { logger, ring, output: () => written.join("") };
}

/** Logs the secrets in every way the service plausibly could. */
function logEverywhere(logger: ReturnType<typeof capture>["logger"]): void {
  logger.info({ url: `https://api.telegram.org/bot${BOT_TOKEN}/sendMessage` }, "telegram call");
  logger.error(new Error(`login failed with password ${PASSWORD}`), "SIEM login failed");
  logger.warn({ err: new Error(`GET /bot${encodeURIComponent(BOT_TOKEN)}/getMe: 401`) }, "getMe failed");
  logger.info(
    { body: new URLSearchParams({ password: PASSWORD, client_secret: CLIENT_SECRET }).toString() },
    "form",
  );
  logger.debug({ nested: { deeper: { note: `secret is ${CLIENT_SECRET}` } } }, `msg with ${PASSWORD}`);
  logger.info({ request: { headers: { authorization: "Bearer some-access-token" } } }, "headers");
  logger.info(
    { password: "not-in-the-list", token: "also-unlisted", auth: { access_token: "tok-unlisted" } },
    "keys",
  );
}

describe("createLogger", () => {
  it("writes JSON lines with no secret in any form, in output and ring alike", () => {
    const { logger, ring, output } = capture();
    logEverywhere(logger);
    const lines = output().trimEnd().split("\n");
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(ring.lines()).toEqual(lines);

    const text = output();
    for (const secret of SECRETS) {
      for (const form of forms(secret)) expect(text).not.toContain(form);
    }
    // Keys known to hold secrets are censored even when their value was never listed.
    for (const unlisted of ["not-in-the-list", "also-unlisted", "tok-unlisted", "some-access-token"]) {
      expect(text).not.toContain(unlisted);
    }
    const first = JSON.parse(lines[0] ?? "{}");
    expect(first.url).toBe("https://api.telegram.org/bot***/sendMessage");
    expect(first.msg).toBe("telegram call");
    expect(first.level).toBe(30);
    const second = JSON.parse(lines[1] ?? "{}");
    expect(second.err.message).toBe("login failed with password ***");
    expect(second.err.stack).toContain("login failed with password ***");
  });

  it("keeps secrets out of the human-readable format too", () => {
    const { logger, ring, output } = capture({ pretty: true });
    logEverywhere(logger);
    const text = output();
    expect(text).toContain("SIEM login failed");
    expect(text).not.toMatch(/^\{/); // not JSON
    for (const secret of SECRETS) {
      for (const form of forms(secret)) expect(text).not.toContain(form);
    }
    // The ring keeps machine-readable lines whatever the output format.
    for (const line of ring.lines()) expect(() => JSON.parse(line)).not.toThrow();
  });

  it("hides a bot token in a Bot API URL even when nobody listed it as a secret", () => {
    const written: string[] = [];
    const { logger } = createLogger({
      level: "info",
      secrets: [],
      destination: { write: (s: string) => written.push(s) },
    });
    logger.info({ url: "http://127.0.0.1:8081/bot42:short-fake-token/getUpdates" }, "polling");
    logger.info(`token ${BOT_TOKEN} on its own`);
    const text = written.join("");
    expect(text).not.toContain("short-fake-token");
    expect(text).not.toContain(BOT_TOKEN);
    expect(text).toContain("/bot***/getUpdates");
  });

  it("keeps only the last ringSize lines, oldest first", () => {
    const { logger, ring } = capture({ ringSize: 3 });
    for (let i = 1; i <= 5; i++) logger.info(`line ${i}`);
    expect(ring.lines().map((l) => JSON.parse(l).msg)).toEqual(["line 3", "line 4", "line 5"]);
  });

  it("drops lines below the configured level", () => {
    const { logger, output } = capture({ level: "warn" });
    logger.info("quiet");
    logger.warn("loud");
    expect(output()).not.toContain("quiet");
    expect(output()).toContain("loud");
  });
});

describe("redactSecrets", () => {
  it("replaces each secret, longest first, in raw, URL-encoded and JSON-escaped form", () => {
    const secrets = ["abc", "abcdef", "a b/c"];
    expect(redactSecrets("x abcdef y abc z", secrets)).toBe("x *** y *** z");
    expect(redactSecrets("q=a%20b%2Fc&r=a+b%2Fc", secrets)).toBe("q=***&r=***");
    expect(redactSecrets(JSON.stringify({ v: 'he said "hi"' }), ['said "hi"'])).toBe('{"v":"he ***"}');
  });

  it("hides a short secret where it stands alone, but not inside ordinary words", () => {
    const out = redactSecrets('mpsiem-telegram: login as siem with "siem" failed (siem/x?p=siem)', ["siem"]);
    expect(out).toBe('mpsiem-telegram: login as *** with "***" failed (***/x?p=***)');
  });

  it("ignores empty secrets instead of mangling the text", () => {
    expect(redactSecrets("nothing secret here", ["", "zzz"])).toBe("nothing secret here");
  });
});

describe("recentProblems", () => {
  it("lists warnings and errors from the ring as short lines, newest last", () => {
    const { logger, ring } = capture();
    logger.info("all fine");
    logger.warn("SIEM slow");
    logger.error(new Error(`connect ECONNREFUSED with ${PASSWORD}`), "SIEM poll failed");
    const problems = recentProblems(ring);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/ warn SIEM slow$/);
    expect(problems[1]).toMatch(/ error SIEM poll failed: connect ECONNREFUSED with \*\*\*$/);
    expect(recentProblems(ring, 1)).toEqual([problems[1]]);
  });
});
