import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DemoSettingsError, parseAdminIds, readDemoSettings } from "../../src/demo/settings.js";
import { tempDir } from "../helpers/tmp.js";

let folder: { dir: string; cleanup: () => void };
beforeEach(() => {
  folder = tempDir("mpsiem-demo-settings-");
});
afterEach(() => folder.cleanup());

const read = (env: NodeJS.ProcessEnv, configFile?: string) =>
  readDemoSettings({ env, cwd: folder.dir, ...(configFile ? { configFile } : {}) });

describe("readDemoSettings", () => {
  it("with nothing set: the offline demo, Russian, Moscow time", () => {
    expect(read({})).toEqual({ locale: "ru", timeZone: "Europe/Moscow" });
  });

  it("with a token and admins: the real Telegram at the default API root", () => {
    const settings = read({ TELEGRAM_BOT_TOKEN: "1:abc", TELEGRAM_ADMIN_IDS: "11, 22", BOT_LOCALE: "EN" });
    expect(settings).toEqual({
      locale: "en",
      timeZone: "Europe/Moscow",
      telegram: { botToken: "1:abc", adminIds: [11, 22], apiRoot: "https://api.telegram.org" },
    });
  });

  it("reads .env in the working directory; the environment wins over it, and it over --config", () => {
    writeFileSync(join(folder.dir, ".env"), "TELEGRAM_BOT_TOKEN=1:from-dotenv\nBOT_TIME_ZONE=Asia/Tokyo\n");
    writeFileSync(
      join(folder.dir, "settings.yaml"),
      "TELEGRAM_BOT_TOKEN: 1:from-file\nTELEGRAM_ADMIN_IDS: [5, 6]\nBOT_TIME_ZONE: UTC\nTELEGRAM_API_ROOT: http://127.0.0.1:9/\n",
    );
    const settings = read({ BOT_TIME_ZONE: "Europe/Berlin" }, "settings.yaml");
    expect(settings.timeZone).toBe("Europe/Berlin");
    expect(settings.telegram).toEqual({
      botToken: "1:from-dotenv",
      adminIds: [5, 6],
      apiRoot: "http://127.0.0.1:9",
    });
  });

  it("refuses half a Telegram configuration, naming the missing setting", () => {
    expect(() => read({ TELEGRAM_ADMIN_IDS: "1" })).toThrow(
      /TELEGRAM_ADMIN_IDS is set but TELEGRAM_BOT_TOKEN is not/,
    );
    expect(() => read({ TELEGRAM_BOT_TOKEN: "1:x", TELEGRAM_ADMIN_IDS: " " })).toThrow(
      /TELEGRAM_BOT_TOKEN is set but TELEGRAM_ADMIN_IDS is not/,
    );
  });

  it("names a bad locale, time zone, API root or config file", () => {
    expect(() => read({ BOT_LOCALE: "de" })).toThrow(DemoSettingsError);
    expect(() => read({ BOT_LOCALE: "de" })).toThrow(/BOT_LOCALE: expected ru or en/);
    expect(() => read({ BOT_TIME_ZONE: "Mars/Olympus" })).toThrow(/BOT_TIME_ZONE: "Mars\/Olympus"/);
    expect(() =>
      read({ TELEGRAM_BOT_TOKEN: "1:x", TELEGRAM_ADMIN_IDS: "1", TELEGRAM_API_ROOT: "api.telegram.org" }),
    ).toThrow(/TELEGRAM_API_ROOT: expected an http\(s\) URL/);
    expect(() => read({}, "missing.yaml")).toThrow(/config file .*missing\.yaml: cannot read \(ENOENT\)/);
  });
});

describe("parseAdminIds", () => {
  it("takes comma- or space-separated positive ids", () => {
    expect(parseAdminIds("1,2 3")).toEqual([1, 2, 3]);
  });

  it("names the part that is not an id", () => {
    expect(() => parseAdminIds("12,@olga")).toThrow(/TELEGRAM_ADMIN_IDS: "@olga" is not a Telegram user id/);
    expect(() => parseAdminIds("-5")).toThrow(/"-5"/);
  });
});
