// BOT_REMIND_* and BOT_ESCALATE_* (design.md §5): off by default, durations with seconds, clear problems.
import { describe, expect, it } from "vitest";
import { describeConfig, loadConfig } from "../../src/config/load.js";
import { configWorkspace } from "../helpers/config-workspace.js";

const VALID: NodeJS.ProcessEnv = {
  MPSIEM_URL: "https://siem.example.local",
  MPSIEM_TOKEN: "personal-access-token",
  TELEGRAM_BOT_TOKEN: "123456789:AAHsecret-bot-token_value",
  TELEGRAM_ADMIN_IDS: "111111",
};

const workspace = configWorkspace("mpsiem-config-reminders-");
const { problemsOf } = workspace;

describe("BOT_REMIND_* and BOT_ESCALATE_*", () => {
  it("are off by default, with §5's defaults for the rest", () => {
    const c = loadConfig({ env: VALID, cwd: workspace.dir });
    expect(c.bot.reminders).toEqual({
      remindAfterMs: 0,
      remindEveryMs: 30 * 60_000,
      remindMax: 3,
      remindMinSeverity: "low",
      escalateAfterMs: 0,
      escalateChatId: null,
    });
    const shown = describeConfig(c);
    expect(shown.BOT_REMIND_AFTER).toBe("0");
    expect(shown.BOT_REMIND_EVERY).toBe("30m");
    expect(shown.BOT_ESCALATE_CHAT).toBe("(not set)");
  });

  it("take durations with seconds, severities in any case and a negative chat id", () => {
    const c = loadConfig({
      env: {
        ...VALID,
        BOT_REMIND_AFTER: "20s",
        BOT_REMIND_EVERY: "1m30s",
        BOT_REMIND_MAX: "5",
        BOT_REMIND_MIN_SEVERITY: "High",
        BOT_ESCALATE_AFTER: "2m",
        BOT_ESCALATE_CHAT: "-1001234567890",
      },
      cwd: workspace.dir,
    });
    expect(c.bot.reminders).toEqual({
      remindAfterMs: 20_000,
      remindEveryMs: 90_000,
      remindMax: 5,
      remindMinSeverity: "high",
      escalateAfterMs: 120_000,
      escalateChatId: -1001234567890,
    });
    expect(describeConfig(c).BOT_ESCALATE_CHAT).toBe("-1001234567890");
  });

  it.each([
    [
      "BOT_REMIND_AFTER",
      "soon",
      'BOT_REMIND_AFTER: expected a duration like 0 (off), 20s, 30m, 1h, got "soon"',
    ],
    ["BOT_REMIND_EVERY", "0", 'BOT_REMIND_EVERY: expected a duration > 0 like 20s, 30m, 1h, got "0"'],
    ["BOT_REMIND_MAX", "0", 'BOT_REMIND_MAX: expected a whole number from 1 to 100, got "0"'],
    ["BOT_REMIND_MAX", "many", 'BOT_REMIND_MAX: expected a whole number from 1 to 100, got "many"'],
    ["BOT_ESCALATE_AFTER", "-5m", 'BOT_ESCALATE_AFTER: expected a duration like 0 (off), 20s, 1h, got "-5m"'],
  ])("%s rejects %j", (name, value, problem) => {
    expect(problemsOf({ ...VALID, [name]: value })).toEqual([problem]);
  });

  it("BOT_REMIND_MIN_SEVERITY and BOT_ESCALATE_CHAT name what they expect", () => {
    const [severity] = problemsOf({ ...VALID, BOT_REMIND_MIN_SEVERITY: "urgent" });
    expect(severity).toMatch(/^BOT_REMIND_MIN_SEVERITY: expected low, medium or high/);
    expect(problemsOf({ ...VALID, BOT_ESCALATE_AFTER: "1h", BOT_ESCALATE_CHAT: "duty" })).toEqual([
      'BOT_ESCALATE_CHAT: expected a numeric Telegram chat id, like -1001234567890, got "duty"',
    ]);
  });

  it("BOT_ESCALATE_AFTER needs BOT_ESCALATE_CHAT", () => {
    expect(problemsOf({ ...VALID, BOT_ESCALATE_AFTER: "1h" })).toEqual([
      "BOT_ESCALATE_CHAT: required with BOT_ESCALATE_AFTER (1h): the chat id escalations go to",
    ]);
  });
});
