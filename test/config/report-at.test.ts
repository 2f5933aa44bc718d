// BOT_REPORT_AT: the daily shift report's time, HH:MM in BOT_TIME_ZONE, or off; anything else stops
// start-up with a message naming the setting.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ConfigError, describeConfig, loadConfig } from "../../src/config/load.js";

const ENV: NodeJS.ProcessEnv = {
  MPSIEM_URL: "https://siem.example.local",
  MPSIEM_USERNAME: "soc-bot",
  MPSIEM_PASSWORD: "pw",
  MPSIEM_CLIENT_SECRET: "cs",
  TELEGRAM_BOT_TOKEN: "123456789:AAHsecret",
  TELEGRAM_ADMIN_IDS: "111111",
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mpsiem-report-at-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const load = (value?: string) =>
  loadConfig({ env: value === undefined ? ENV : { ...ENV, BOT_REPORT_AT: value }, cwd: dir });

describe("BOT_REPORT_AT", () => {
  it("is off by default and with off; HH:MM is kept, a single-digit hour padded", () => {
    expect(load().bot.reportAt).toBeUndefined();
    expect(load("off").bot.reportAt).toBeUndefined();
    expect(load("09:00").bot.reportAt).toBe("09:00");
    expect(load("9:30").bot.reportAt).toBe("09:30");
    expect(load("23:59").bot.reportAt).toBe("23:59");
    expect(describeConfig(load("08:15")).BOT_REPORT_AT).toBe("08:15");
    expect(describeConfig(load()).BOT_REPORT_AT).toBe("off");
  });

  it("refuses anything else, naming the setting", () => {
    for (const bad of ["24:00", "9", "09:60", "9am", "09:00:00"]) {
      try {
        load(bad);
        throw new Error(`accepted ${bad}`);
      } catch (error) {
        expect((error as ConfigError).problems).toEqual([
          `BOT_REPORT_AT: expected a time of day HH:MM, 24-hour, in BOT_TIME_ZONE (e.g. 09:00), or off, got "${bad}"`,
        ]);
      }
    }
  });
});
