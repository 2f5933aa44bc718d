// The config file's `escalation:` policies (issue 15): what a valid list becomes, and how each kind of bad
// input stops start-up naming the policy (its index and name) and the field.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { describePolicy } from "../../src/config/policies.js";
import { remindersOn } from "../../src/config/types.js";
import { configWorkspace } from "../helpers/config-workspace.js";

const ENV: NodeJS.ProcessEnv = {
  MPSIEM_URL: "https://siem.example.local",
  MPSIEM_USERNAME: "soc-bot",
  MPSIEM_PASSWORD: "pw",
  MPSIEM_CLIENT_SECRET: "cs",
  TELEGRAM_BOT_TOKEN: "123456789:AAHsecret",
  TELEGRAM_ADMIN_IDS: "111111",
};

const workspace = configWorkspace("mpsiem-policies-");

function withFile(yaml: string, env: NodeJS.ProcessEnv = ENV) {
  const file = join(workspace.dir, "config.yaml");
  writeFileSync(file, yaml);
  return loadConfig({ env, cwd: workspace.dir, configFile: file });
}

function problems(yaml: string): string[] {
  try {
    withFile(yaml);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

const VALID = `
escalation:
  - name: high-at-night
    match: severity>=high
    steps:
      - after: 15m
        action: remind
        every: 20m
      - after: 1h
        action: notify
        chat: -1001234567890
    repeat: 5
    active_hours:
      - monday-friday 09:00-18:00
  - name: everything
    steps:
      - after: 2h
        action: notify
        chat: 4242
`;

describe("escalation: in the config file", () => {
  it("becomes policies: matchers in canonical form, steps, repeat cap and active hours", () => {
    const config = withFile(VALID);
    expect(config.escalation).toEqual([
      {
        name: "high-at-night",
        match: "severity>=high",
        remind: { afterMs: 15 * 60_000, everyMs: 20 * 60_000 },
        notify: { afterMs: 3_600_000, chatId: -1001234567890 },
        repeat: 5,
        activeHours: ["monday-friday 09:00-18:00"],
      },
      {
        name: "everything",
        match: "",
        remind: null,
        notify: { afterMs: 2 * 3_600_000, chatId: 4242 },
        repeat: 3,
        activeHours: [],
      },
    ]);
    // Policies alone turn the Snooze button on.
    expect(remindersOn(config)).toBe(true);
  });

  it("is absent without the key, and the env settings stay the one-policy shortcut beside it", () => {
    expect(withFile("BOT_LOCALE: en\n").escalation).toBeUndefined();
    const both = withFile(VALID, { ...ENV, BOT_REMIND_AFTER: "10m" });
    expect(both.escalation).toHaveLength(2);
    expect(both.bot.reminders?.remindAfterMs).toBe(10 * 60_000);
  });

  it("names the policy and the field of each problem", () => {
    const found = problems(`
escalation:
  - name: a
    match: severity>>high
    steps:
      - after: soon
        action: remind
  - name: a
    steps:
      - after: 5m
        action: page
  - steps:
      - after: 5m
        action: notify
  - name: env
    repeat: 0
    steps: []
  - name: b
    active_hours: someday 25:00-26:00
    steps:
      - after: 5m
        action: notify
        chat: general
      - after: 5m
        action: remind
        chat: 5
        every: 0
  - name: c
    colour: red
    steps:
      - after: 5m
        action: remind
      - after: 6m
        action: remind
  - just a string
`);
    const expected = [
      /^escalation\[0\] \(a\): match: /,
      /^escalation\[0\] \(a\): steps\[0\]: after: expected a duration above zero .*"soon"/,
      /^escalation\[1\] \(a\): name: the same as escalation\[0\]/,
      /^escalation\[1\] \(a\): steps\[0\]: action: expected remind or notify, got "page"/,
      /^escalation\[2\]: name: required/,
      /^escalation\[2\]: steps\[0\]: chat: required for notify/,
      /^escalation\[3\] \(env\): name: "env" is the policy of the BOT_REMIND_\*\/BOT_ESCALATE_\* settings/,
      /^escalation\[3\] \(env\): repeat: expected how many reminders at most/,
      /^escalation\[3\] \(env\): steps: required/,
      /^escalation\[4\] \(b\): active_hours: /,
      /^escalation\[4\] \(b\): steps\[0\]: chat: expected a chat id .*"general"/,
      /^escalation\[4\] \(b\): steps\[1\]: chat: only a notify step has a chat/,
      /^escalation\[4\] \(b\): steps\[1\]: every: expected a duration above zero/,
      /^escalation\[5\] \(c\): unknown field "colour"/,
      /^escalation\[5\] \(c\): steps\[1\]: a policy has at most one remind step/,
      /^escalation\[6\]: expected a map/,
    ];
    for (const pattern of expected)
      expect(
        found.some((line) => pattern.test(line)),
        String(pattern),
      ).toBe(true);
    expect(found).toHaveLength(expected.length);
  });

  it("refuses something other than a list", () => {
    expect(problems("escalation:\n  name: x\n")).toEqual([
      expect.stringMatching(/^escalation: expected a list of policies/),
    ]);
  });
});

describe("describePolicy", () => {
  it("says what a policy does in one line (the start-up log)", () => {
    const [first] = withFile(VALID).escalation ?? [];
    expect(describePolicy(first!)).toBe(
      "high-at-night: severity>=high: remind after 15m every 20m ×5, notify -1001234567890 after 1h (held outside monday-friday 09:00-18:00)",
    );
  });
});
