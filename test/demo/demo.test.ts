// Runs `mpsiem-telegram demo` (dist/cli.js, what `npm run demo` runs) as a real child process with a
// clean environment. The runs are independent, so they go concurrently: the offline script takes
// about 15 s on its own. dist/ is rebuilt here when it is missing or older than src/.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeBotApi, startFakeBotApi } from "../../src/botapi-fake/index.js";
import { decodeCallbackData } from "../../src/render/callback-data.js";
import { CLI_PATH, ensureBuilt } from "../helpers/build.js";

const cliPath = CLI_PATH;
/** Far fewer cards than the burst's 40 incidents × 2 chats: the rest are in digests. */
const BURST_CARDS_AT_MOST = 12;
const DEMO_LIMIT_MS = 90_000;
const folders: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** PATH and HOME only (no token, no .env: the working directory is an empty temp folder). */
function startDemo(args: string[] = [], extraEnv: Record<string, string> = {}): Running {
  const cwd = mkdtempSync(join(tmpdir(), "mpsiem-demo-test-"));
  folders.push(cwd);
  const child = spawn(process.execPath, [cliPath, "demo", ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: cwd, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Running(child);
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

class Running {
  stdout = "";
  stderr = "";
  private readonly exited: Promise<Finished>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      this.stdout += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      this.stderr += d;
    });
    this.exited = new Promise((done) => {
      child.on("close", (code, signal) => done({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  /** Resolves when stdout contains `text`; rejects (and kills the demo) after timeoutMs or if it exits first. */
  async waitForOutput(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.includes(text)) {
      if (this.child.exitCode !== null || Date.now() > deadline) {
        this.child.kill("SIGKILL");
        throw new Error(
          `demo never printed ${JSON.stringify(text)}; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for the exit; kills the demo and fails after timeoutMs. */
  finished(timeoutMs: number): Promise<Finished> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, fail) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        fail(
          new Error(
            `demo did not exit within ${timeoutMs} ms; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
          ),
        );
      }, timeoutMs);
    });
    return Promise.race([this.exited, limit]).finally(() => clearTimeout(timer));
  }
}

/** The printed lines between step `n`'s line and the next step's (or the end). */
function stepSection(stdout: string, n: number): string {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`${n}. `));
  if (start === -1) return "";
  const end = lines.findIndex((l, i) => i > start && /^(\d+\. |Done in )/.test(l));
  return lines.slice(start, end === -1 ? undefined : end).join("\n");
}

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;
const SOC_TEAM = "SOC team (supergroup -1001234567890)";
const IVAN = "Ivan (private 200002)";

describe.concurrent("mpsiem-telegram demo", () => {
  it(
    "without a token plays the whole script against the fake Bot API and exits 0",
    async () => {
      const result = await startDemo().finished(DEMO_LIMIT_MS);
      const out = result.stdout;
      expect(result.code, `stdout:\n${out}\nstderr:\n${result.stderr}`).toBe(0);

      // Every step, numbered, in order.
      const stepLines = out.split("\n").filter((l) => /^\d+\. /.test(l));
      expect(stepLines.map((l) => Number(l.split(".")[0]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(stepLines[0]).toBe("1. Ivan (unknown user) sends /start to the bot");

      // 1: the admin gets the request, its buttons in brackets.
      const request = stepSection(out, 1);
      expect(request).toContain("── to Admin (private 100001) ──");
      expect(request).toContain("Ivan Petrov (@ivan), id 200002");
      expect(request).toContain("   [✅ Разрешить]\n   [💤 Проигнорировать] [⛔ Заблокировать]");
      // 2: the admin's press is written into the request, and Ivan is told.
      expect(stepLines[1]).toBe("2. Admin presses [✅ Разрешить] under Ivan's request");
      expect(stepSection(out, 2)).toMatch(
        /── edited in Admin \(private 100001\) ──[\s\S]*Разрешено: @soc_admin/,
      );
      expect(stepSection(out, 2)).toContain(`── to ${IVAN} ──`);
      // 3-4: the group asks and is allowed.
      expect(stepSection(out, 3)).toContain("супергруппа «SOC team», id -1001234567890");
      expect(stepSection(out, 4)).toContain(`── to ${SOC_TEAM} ──`);

      // 5: incidents reach both chats with their buttons; the hostile one is shown literally (escaped).
      const incidents = stepSection(out, 5);
      expect(incidents).toContain("Инцидент INC-1");
      // A New card offers Approve, Take, Close and Refresh (design.md §4).
      expect(incidents).toContain("   [▶️ Подтвердить] [🛠 В работу]\n   [⏹ Закрыть]\n   [🔄 Обновить]");
      expect(incidents).toContain("<b>Hostile</b> & _under_ *star*");
      expect(incidents).toContain('<script>alert("x")</script>');
      for (const chat of [SOC_TEAM, IVAN]) expect(incidents).toContain(`── to ${chat} ──`);

      // 6: Approve edits every copy with who approved it.
      const approved = stepSection(out, 6);
      expect(approved).toContain("6. Ivan presses [▶️ Подтвердить] on INC-1");
      for (const chat of [SOC_TEAM, IVAN]) expect(approved).toContain(`── edited in ${chat} ──`);
      expect(approved).toMatch(/Подтверждён: @ivan в \d\d:\d\d/);
      // The step line names the button; the edited messages no longer offer it.
      expect(approved.split("\n").slice(1).join("\n")).not.toContain("[▶️ Подтвердить]");

      // 7-8: Close asks to confirm in place, then Yes edits every copy.
      expect(stepSection(out, 7)).toContain(
        `── edited in ${IVAN} (buttons only) ──\n   [✅ Да, закрыть] [📑 Дубликат]\n   [🧪 Тест / разрешено] [📝 Другое]\n   [↩️ Отмена]`,
      );
      const closed = stepSection(out, 8);
      for (const chat of [SOC_TEAM, IVAN]) expect(closed).toContain(`── edited in ${chat} ──`);
      expect(closed).toMatch(/Закрыт: @ivan в \d\d:\d\d/);

      // 9: a change made in the SIEM UI reaches every copy.
      const inSiem = stepSection(out, 9);
      expect(inSiem).toContain("9. Someone closes INC-4 in the SIEM UI (not in Telegram)");
      for (const chat of [SOC_TEAM, IVAN]) expect(inSiem).toContain(`── edited in ${chat} ──`);
      expect(inSiem).toMatch(/Статус изменён в SIEM в \d\d:\d\d/);
      expect(inSiem).toMatch(/\(every copy updated \d+\.\d s after the change/);

      // 10: the burst goes out as digests, not 40 single messages per chat; its two High incidents are
      // never in a digest and go ahead of them (a chat may still get a first Medium or Low one alone).
      const burst = stepSection(out, 10);
      // The group's copy of a message equal to Ivan's prints as "(the same message as above)", so the
      // digest's header may show under either chat.
      const digestHeader = /^ {3}\d+ новых инцидент/m;
      expect(burst).toMatch(digestHeader);
      expect((burst.match(/^ {3}🔴 Инцидент INC-\d+$/gm) ?? []).length).toBeGreaterThanOrEqual(2);
      expect(burst).not.toMatch(/^ {3}🔴 (\S+ )?INC-\d+ /m); // no High line inside a digest
      expect(burst.search(/🔴 Инцидент INC-/)).toBeLessThan(burst.search(digestHeader));
      expect((burst.match(/^ {3}\S+ Инцидент INC-\d+$/gm) ?? []).length).toBeLessThan(BURST_CARDS_AT_MOST);

      expect(out).toMatch(
        /^Done in \d+ s: 44 incidents in the SIEM, \d+ messages sent, \d+ edits, .*health: ok$/m,
      );
      for (const text of [result.stdout, result.stderr]) {
        expect(text).not.toMatch(STACK_FRAME);
        expect(text).not.toContain('"stack"');
      }
    },
    DEMO_LIMIT_MS + 10_000,
  );

  it(
    "with --follow keeps running after the script until Ctrl+C, then stops cleanly with 0",
    async () => {
      const demo = startDemo(["--follow"]);
      await demo.waitForOutput("Ctrl+C to stop.", DEMO_LIMIT_MS);
      expect(demo.stdout).toMatch(/^Following: /m);
      demo.child.kill("SIGINT");
      const result = await demo.finished(15_000);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("SIGINT received: stopping the demo");
      expect(result.stdout.trimEnd().endsWith("demo stopped")).toBe(true);
      expect(result.stdout + result.stderr).not.toMatch(STACK_FRAME);
    },
    DEMO_LIMIT_MS + 20_000,
  );

  it(
    "Ctrl+C in the middle of the script stops everything with 0",
    async () => {
      const demo = startDemo();
      await demo.waitForOutput("\n3. ", DEMO_LIMIT_MS);
      demo.child.kill("SIGINT");
      const result = await demo.finished(15_000);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("demo stopped");
      expect(result.stdout).not.toContain("Done in");
      expect(result.stdout + result.stderr).not.toMatch(STACK_FRAME);
    },
    DEMO_LIMIT_MS + 20_000,
  );

  it("with only one of the two Telegram settings says which is missing and exits 2", async () => {
    const result = await startDemo([], { TELEGRAM_BOT_TOKEN: "123456:only-the-token-is-set-here" }).finished(
      20_000,
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("TELEGRAM_BOT_TOKEN is set but TELEGRAM_ADMIN_IDS is not");
    expect(result.stdout + result.stderr).not.toContain("only-the-token-is-set-here");
  });

  describe("with TELEGRAM_BOT_TOKEN and TELEGRAM_ADMIN_IDS (a Bot API on loopback)", () => {
    let botApi: FakeBotApi;
    const token = "987654:live-demo-token-never-printed";
    const admin = { id: 4242, first_name: "Olga", username: "olga" };

    beforeAll(async () => {
      botApi = await startFakeBotApi({ token });
      botApi.addChat({
        id: admin.id,
        type: "private",
        first_name: admin.first_name,
        username: admin.username,
      });
    });
    afterAll(async () => {
      await botApi?.close();
    });

    it("uses that bot, explains how to try it, serves /start, and stops on Ctrl+C", async () => {
      const demo = startDemo([], {
        TELEGRAM_BOT_TOKEN: token,
        TELEGRAM_ADMIN_IDS: String(admin.id),
        TELEGRAM_API_ROOT: botApi.apiRoot,
      });
      await demo.waitForOutput("Ctrl+C to stop.", 30_000);
      expect(demo.stdout).toContain("send /start to @FakeMpSiemBot");
      expect(demo.stdout).toContain(`You are an admin (TELEGRAM_ADMIN_IDS ${admin.id})`);

      // The real service answers in this Telegram: the admin's own /start becomes a request with Allow.
      await botApi.waitFor(() => botApi.calls.some((c) => c.method === "getUpdates"), 20_000);
      botApi.sendText(admin, admin.id, "/start");
      await botApi.waitFor(
        () =>
          botApi.messages(admin.id).some((m) => {
            const rows = (m.replyMarkup as { inline_keyboard?: Array<Array<{ callback_data?: string }>> })
              ?.inline_keyboard;
            return (rows ?? []).flat().some((b) => {
              const data = decodeCallbackData(b.callback_data);
              return data?.kind === "chat" && data.decision === "allow" && data.chatId === admin.id;
            });
          }),
        20_000,
      );

      demo.child.kill("SIGINT");
      const result = await demo.finished(15_000);
      expect(result.code).toBe(0);
      expect(result.stdout + result.stderr).not.toContain("live-demo-token-never-printed");
      expect(result.stdout + result.stderr).not.toMatch(STACK_FRAME);
    }, 70_000);

    it("says so and exits 2 when Telegram refuses the token", async () => {
      const result = await startDemo([], {
        TELEGRAM_BOT_TOKEN: "111:a-token-the-bot-api-refuses",
        TELEGRAM_ADMIN_IDS: String(admin.id),
        TELEGRAM_API_ROOT: botApi.apiRoot,
      }).finished(30_000);
      expect(result.code).toBe(2);
      expect(result.stdout).toMatch(/Telegram refused TELEGRAM_BOT_TOKEN \(401 /);
      expect(result.stdout + result.stderr).not.toContain("a-token-the-bot-api-refuses");
    });
  });
});
