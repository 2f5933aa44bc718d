// BOT_SILENT_BELOW and the config file's `routes:`: what they become, and how a bad one stops start-up
// naming the route (its index and chat) and the field.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, loadConfig } from "../../src/config/load.js";
import { configWorkspace } from "../helpers/config-workspace.js";

const ENV: NodeJS.ProcessEnv = {
  MPSIEM_URL: "https://siem.example.local",
  MPSIEM_USERNAME: "soc-bot",
  MPSIEM_PASSWORD: "pw",
  MPSIEM_CLIENT_SECRET: "cs",
  TELEGRAM_BOT_TOKEN: "123456789:AAHsecret",
  TELEGRAM_ADMIN_IDS: "111111",
};

const workspace = configWorkspace("mpsiem-routes-");

function withFile(yaml: string) {
  const file = join(workspace.dir, "config.yaml");
  writeFileSync(file, yaml);
  return loadConfig({ env: ENV, cwd: workspace.dir, configFile: file });
}

function problems(yaml: string, env: NodeJS.ProcessEnv = ENV): string[] {
  const file = join(workspace.dir, "config.yaml");
  writeFileSync(file, yaml);
  try {
    loadConfig({ env, cwd: workspace.dir, configFile: file });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("BOT_SILENT_BELOW", () => {
  it("is off by default and takes a severity in any case, Russian too", () => {
    expect(loadConfig({ env: ENV, cwd: workspace.dir }).bot.silentBelow).toBeNull();
    expect(
      loadConfig({ env: { ...ENV, BOT_SILENT_BELOW: "High" }, cwd: workspace.dir }).bot.silentBelow,
    ).toBe("high");
    expect(
      loadConfig({ env: { ...ENV, BOT_SILENT_BELOW: "средняя" }, cwd: workspace.dir }).bot.silentBelow,
    ).toBe("medium");
    expect(
      loadConfig({ env: { ...ENV, BOT_SILENT_BELOW: "off" }, cwd: workspace.dir }).bot.silentBelow,
    ).toBeNull();
    expect(
      describeConfig(loadConfig({ env: { ...ENV, BOT_SILENT_BELOW: "low" }, cwd: workspace.dir }))
        .BOT_SILENT_BELOW,
    ).toBe("low");
  });

  it("refuses anything else, naming the setting", () => {
    try {
      loadConfig({ env: { ...ENV, BOT_SILENT_BELOW: "critical" }, cwd: workspace.dir });
      throw new Error("accepted");
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'BOT_SILENT_BELOW: expected low, medium, high or off (low, medium, high (any case; also низкая, средняя, высокая)), got "critical"',
      ]);
    }
  });
});

describe("routes in the config file", () => {
  it("reads chats, topics, filters, silent matchers and active hours, canonically", () => {
    const c = withFile(`
BOT_POLL_INTERVAL: 2
routes:
  - chat: -1001111111111
  - chat: 7001
    filter: Severity>=HIGH
  - chat: -1002222222222
    topic: 42
    filter:
      - type=~"Network|Firewall"
      - severity>=medium
    silent: name="Port scan"
    active_hours:
      - monday-friday 09:00-18:00
      - saturday 10:00-14:00
  - chat: -1002222222222
    active_hours: 08:00-22:00
`);
    expect(c.bot.pollIntervalMs).toBe(2_000);
    expect(c.routes).toEqual([
      { chatId: -1001111111111, topic: null, filter: "", silent: "", activeHours: [] },
      { chatId: 7001, topic: null, filter: "severity>=high", silent: "", activeHours: [] },
      {
        chatId: -1002222222222,
        topic: 42,
        filter: "type=~Network|Firewall severity>=medium",
        silent: 'name="Port scan"',
        activeHours: ["monday-friday 09:00-18:00", "saturday 10:00-14:00"],
      },
      { chatId: -1002222222222, topic: null, filter: "", silent: "", activeHours: ["08:00-22:00"] },
    ]);
    expect(loadConfig({ env: ENV, cwd: workspace.dir }).routes).toBeUndefined();
  });

  it("stops start-up on a bad route, naming its index, its chat and the field", () => {
    expect(
      problems(`
routes:
  - chat: -100123
    filter: severity>=urgent
  - chat: abc
  - topic: 5
  - chat: -100456
    topic: -1
    silent: "name=~(a+)+"
    active_hours: 22:00-06:00
    activehours: mon
  - chat: -100123
  - just text
`),
    ).toEqual([
      'routes[0] (chat -100123): filter: matcher "severity>=urgent": "urgent" is not a severity: use low, medium, high (any case; also низкая, средняя, высокая)',
      'routes[1] (chat abc): chat: expected a chat id (a whole number), got "abc"',
      "routes[2]: chat: required (the chat id, e.g. -1001234567890)",
      'routes[3] (chat -100456): unknown field "activehours" (fields: chat, topic, filter, silent, active_hours)',
      "routes[3] (chat -100456): topic: expected a forum topic id (a whole number > 0)",
      'routes[3] (chat -100456): silent: matcher "name=~(a+)+": a repeated group may not itself contain a repetition, like (a+)+: it can take very long to match',
      'routes[3] (chat -100456): active_hours: "22:00-06:00": the start must be before the end; a range crossing midnight is written as two, e.g. 22:00-24:00, 00:00-06:00',
      "routes[4] (chat -100123): the same chat as routes[0]; list each destination once",
      'routes[5]: expected a map with at least "chat: <id>"',
    ]);
    expect(problems("routes: -100123\n")).toEqual([
      "routes: expected a list of routes (- chat: <id> …), see README “Routing and quiet hours”",
    ]);
  });

  it("reports route problems together with the other settings' problems", () => {
    const { TELEGRAM_BOT_TOKEN: _, ...withoutToken } = ENV;
    expect(problems("routes:\n  - chat: 1\n    filter: sev=x\n", withoutToken)).toEqual([
      "TELEGRAM_BOT_TOKEN: required",
      'routes[0] (chat 1): filter: matcher "sev=x": unknown field "sev": use severity, type, category, name, rule',
    ]);
  });
});
