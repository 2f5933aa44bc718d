// BOT_RETENTION: a duration like the other windows, 90 days by default, never shorter than the windows
// that still read stored incidents (BOT_CHANGE_WINDOW, BOT_OVERLAP_WINDOW).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeConfig, loadConfig } from "../../src/config/load.js";
import { configWorkspace } from "../helpers/config-workspace.js";

const VALID: NodeJS.ProcessEnv = {
  MPSIEM_URL: "https://siem.example.local",
  MPSIEM_TOKEN: "personal-access-token",
  TELEGRAM_BOT_TOKEN: "123456789:AAHsecret-bot-token_value",
  TELEGRAM_ADMIN_IDS: "111111",
};
const DAY = 86_400_000;

const workspace = configWorkspace("mpsiem-config-retention-");
const { problemsOf } = workspace;

describe("BOT_RETENTION", () => {
  it("is 90 days by default and shown by describeConfig", () => {
    const c = loadConfig({ env: VALID, cwd: workspace.dir });
    expect(c.bot.retentionMs).toBe(90 * DAY);
    expect(describeConfig(c).BOT_RETENTION).toBe("90d");
  });

  it("takes a duration like the other windows, from the environment or the YAML file", () => {
    expect(loadConfig({ env: { ...VALID, BOT_RETENTION: "30d" }, cwd: workspace.dir }).bot.retentionMs).toBe(
      30 * DAY,
    );
    expect(loadConfig({ env: { ...VALID, BOT_RETENTION: "12w" }, cwd: workspace.dir }).bot.retentionMs).toBe(
      84 * DAY,
    );
    const file = join(workspace.dir, "bot.yaml");
    writeFileSync(file, "BOT_RETENTION: 2160h\n");
    expect(loadConfig({ env: VALID, cwd: workspace.dir, configFile: file }).bot.retentionMs).toBe(90 * DAY);
  });

  it.each([
    ["month", 'BOT_RETENTION: expected a duration > 0 like 30d, 12w, 2160h, got "month"'],
    ["0", 'BOT_RETENTION: expected a duration > 0 like 30d, 12w, 2160h, got "0"'],
  ])("rejects %j", (value, problem) => {
    expect(problemsOf({ ...VALID, BOT_RETENTION: value })).toEqual([problem]);
  });

  it("must not be shorter than BOT_CHANGE_WINDOW", () => {
    expect(problemsOf({ ...VALID, BOT_RETENTION: "3d" })).toEqual([
      "BOT_RETENTION: must not be shorter than BOT_CHANGE_WINDOW (7d), got 3d",
    ]);
    expect(problemsOf({ ...VALID, BOT_RETENTION: "20d", BOT_CHANGE_WINDOW: "30d" })).toEqual([
      "BOT_RETENTION: must not be shorter than BOT_CHANGE_WINDOW (30d), got 20d",
    ]);
    // Equal is enough.
    expect(
      loadConfig({ env: { ...VALID, BOT_RETENTION: "30d", BOT_CHANGE_WINDOW: "30d" }, cwd: workspace.dir })
        .bot.retentionMs,
    ).toBe(30 * DAY);
  });

  it("must not be shorter than BOT_OVERLAP_WINDOW", () => {
    expect(
      problemsOf({ ...VALID, BOT_RETENTION: "1d", BOT_CHANGE_WINDOW: "0", BOT_OVERLAP_WINDOW: "2d" }),
    ).toEqual(["BOT_RETENTION: must not be shorter than BOT_OVERLAP_WINDOW (2d), got 1d"]);
  });

  it("is reported together with the other problems", () => {
    const problems = problemsOf({ ...VALID, BOT_RETENTION: "1h", BOT_LOCALE: "de" });
    expect(problems).toContain("BOT_RETENTION: must not be shorter than BOT_CHANGE_WINDOW (7d), got 1h");
    expect(problems.some((p) => p.startsWith("BOT_LOCALE:"))).toBe(true);
  });
});
