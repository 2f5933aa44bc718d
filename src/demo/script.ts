// The offline demo: the real service against the MP SIEM emulator and the fake Bot API, with a short
// script played as people would (an analyst asks for access, the admin allows, incidents arrive, the
// analyst approves and closes, someone changes one in the SIEM UI, a burst arrives). Every bot message
// is printed as the chat would show it. Each step waits for a real outcome, never for a fixed time.

import { type FakeBotApi, type FakeMessage, type FakeUser, startFakeBotApi } from "../botapi-fake/index.js";
import type { Locale } from "../config/types.js";
import { t } from "../i18n/index.js";
import { type CallbackData, decodeCallbackData } from "../render/callback-data.js";
import { TranscriptPrinter } from "./transcript.js";
import { type DemoWorld, startWorld } from "./world.js";

const BOT_TOKEN = "100200300:DEMO-fake-bot-token";
const ADMIN: FakeUser = { id: 100_001, first_name: "Admin", username: "soc_admin" };
const IVAN: FakeUser = { id: 200_002, first_name: "Ivan", last_name: "Petrov", username: "ivan" };
const GROUP = { id: -1_001_234_567_890, type: "supergroup" as const, title: "SOC team" };

const CHAT_NAMES = new Map<number, string>([
  [ADMIN.id, `Admin (private ${ADMIN.id})`],
  [IVAN.id, `Ivan (private ${IVAN.id})`],
  [GROUP.id, `SOC team (supergroup ${GROUP.id})`],
]);

export const DEFAULT_STEP_TIMEOUT_MS = 20_000;
const BURST_SIZE = 40;
/** High incidents in the burst: each goes out alone and ahead of the rest, which fold into digests. */
const BURST_HIGH = 2;
const POLL_EVERY_MS = 50;
/** No bot message for this long: a step's follow-ups have all appeared. */
const QUIET_MS = 500;

/** A step did not reach its outcome (in time). */
export class StepFailed extends Error {
  constructor(step: number, title: string, problem: string) {
    super(step === 0 ? `starting the demo failed: ${problem}` : `step ${step} (${title}) failed: ${problem}`);
    this.name = "StepFailed";
  }
}

/** Ctrl+C during the script. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}

export interface ScriptOptions {
  locale: Locale;
  timeZone: string;
  /** Where each line of the demo goes (stdout in the CLI). */
  print: (line: string) => void;
  /** Where the service's warnings go (stderr in the CLI). */
  logTo: NodeJS.WritableStream;
  /** After the script, keep generating incidents until `signal` aborts. */
  follow: boolean;
  signal: AbortSignal;
  stepTimeoutMs?: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

function buttonsOf(msg: FakeMessage | undefined): Array<{ text: string; data: CallbackData; raw: string }> {
  const rows = (msg?.replyMarkup as { inline_keyboard?: unknown } | undefined)?.inline_keyboard;
  if (!Array.isArray(rows)) return [];
  const out: Array<{ text: string; data: CallbackData; raw: string }> = [];
  for (const row of rows) {
    if (!Array.isArray(row)) continue;
    for (const button of row as Array<{ text?: unknown; callback_data?: unknown }>) {
      const raw = typeof button.callback_data === "string" ? button.callback_data : undefined;
      const data = decodeCallbackData(raw);
      if (raw && data && typeof button.text === "string") out.push({ text: button.text, data, raw });
    }
  }
  return out;
}

/** The chat-request message for `chatId` in the admin's chat, with its Allow button. */
function requestAllowButton(fake: FakeBotApi, chatId: number) {
  for (const msg of fake.messages(ADMIN.id).reverse()) {
    const allow = buttonsOf(msg).find(
      (b) => b.data.kind === "chat" && b.data.decision === "allow" && b.data.chatId === chatId,
    );
    if (allow) return { msg, button: allow };
  }
  return undefined;
}

function incidentButton(msg: FakeMessage | undefined, action: string) {
  return buttonsOf(msg).find((b) => b.data.kind === "incident" && b.data.action === action);
}

export async function playScript(opts: ScriptOptions): Promise<number> {
  const { print, signal } = opts;
  const stepTimeoutMs = opts.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const texts = t(opts.locale);
  const labels = texts.buttons;
  const startedAt = Date.now();

  const fake = await startFakeBotApi({ token: BOT_TOKEN }); // Telegram's real limits, 429s included
  fake.addChat({ id: ADMIN.id, type: "private", first_name: ADMIN.first_name, username: ADMIN.username });
  fake.addChat({
    id: IVAN.id,
    type: "private",
    first_name: IVAN.first_name,
    last_name: IVAN.last_name,
    username: IVAN.username,
  });
  fake.addChat(GROUP);
  const printer = new TranscriptPrinter((id) => CHAT_NAMES.get(id));
  let lastMessageEventAt = Date.now();
  let storyOver = false;
  const unsubscribe = fake.onMessage((event) => {
    lastMessageEventAt = Date.now();
    // Once the story is over (stopping, failed), what the service still sends is not part of it.
    if (storyOver || signal.aborted) return;
    for (const line of printer.format(event)) print(line);
  });

  let world: DemoWorld | undefined;
  try {
    print(
      "mpsiem-telegram demo: no TELEGRAM_BOT_TOKEN, so a local fake of the Telegram Bot API plays the chats.",
    );
    print("Set TELEGRAM_BOT_TOKEN and TELEGRAM_ADMIN_IDS to try it in your own Telegram instead.");
    world = await startWorld({
      telegram: { botToken: BOT_TOKEN, adminIds: [ADMIN.id], apiRoot: fake.apiRoot },
      locale: opts.locale,
      timeZone: opts.timeZone,
      logTo: opts.logTo,
    });
    const { emulator, service } = world;
    const { store } = service.parts;
    print(`MP SIEM emulator: ${emulator.coreUrl} (account siem / siem); the service polls it every second.`);
    print(
      `Chats: ${CHAT_NAMES.get(ADMIN.id)} is the bot's admin, ${CHAT_NAMES.get(IVAN.id)} a SOC analyst, ` +
        `"${GROUP.title}" a group.`,
    );

    let stepNumber = 0;
    let stepTitle = "start";
    const step = (title: string) => {
      stepNumber += 1;
      stepTitle = title;
      print("");
      print(`${stepNumber}. ${title}`);
    };
    const failed = (problem: string) => new StepFailed(stepNumber, stepTitle, problem);
    const until = async (
      what: string,
      holds: () => boolean | Promise<boolean>,
      timeoutMs = stepTimeoutMs,
    ) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (signal.aborted) throw new Interrupted();
        if (await holds()) return;
        if (Date.now() >= deadline) {
          throw new StepFailed(stepNumber, stepTitle, `waited ${timeoutMs / 1000} s for ${what}`);
        }
        await sleep(POLL_EVERY_MS, signal);
      }
    };
    /** The incident's status is `status` and every delivered copy shows its latest version. */
    const everyCopyShows = async (incidentId: string, status: string, copies: number) => {
      const incident = await store.incidents.get(incidentId);
      if (incident?.status.toLowerCase() !== status.toLowerCase()) return false;
      const delivered = await store.outbox.copies(incidentId);
      return delivered.length >= copies && delivered.every((c) => c.renderedVersion >= incident.version);
    };
    const ivanCopy = async (incidentId: string) => {
      const copy = await store.outbox.copyIn(incidentId, IVAN.id);
      return fake.messages(IVAN.id).find((m) => m.messageId === copy?.messageId);
    };
    /** The bot has said `text` in the chat. */
    const told = (chatId: number, text: string) =>
      fake.messages(chatId).some((m) => m.plainText.includes(text));
    /** Allowed in the store, the decision written into the admin's request, and the chat told. */
    const allowedAndTold = async (chatId: number, request: FakeMessage) => {
      if ((await store.chats.get(chatId))?.state !== "allowed") return false;
      const edited = fake.messages(ADMIN.id).some((m) => m.messageId === request.messageId && m.edits > 0);
      return edited && told(chatId, texts.chats.allowed);
    };
    /** After a step's outcome, lets its follow-up messages (notices, edits) appear before the next step. */
    const settle = () => until("the chats to go quiet", () => Date.now() - lastMessageEventAt >= QUIET_MS);
    const press = async (who: FakeUser, chatId: number, msg: FakeMessage, data: string) => {
      const id = fake.pressButton(who, chatId, msg.messageId, data);
      await until("the bot to answer the button press", () => fake.answeredCallbacks().has(id));
    };

    // The bot polls Telegram once it has told the admin it is up.
    await until("the bot to start polling Telegram", () => fake.calls.some((c) => c.method === "getUpdates"));

    step("Ivan (unknown user) sends /start to the bot");
    fake.sendText(IVAN, IVAN.id, "/start");
    await until(
      "the access request in the admin's chat, and Ivan told to wait",
      () => requestAllowButton(fake, IVAN.id) !== undefined && told(IVAN.id, texts.chats.pending),
    );
    await settle();

    const ivanRequest = requestAllowButton(fake, IVAN.id)!;
    step(`Admin presses [${ivanRequest.button.text}] under Ivan's request`);
    await press(ADMIN, ADMIN.id, ivanRequest.msg, ivanRequest.button.raw);
    await until("Ivan's chat to be allowed, the request marked and Ivan told", () =>
      allowedAndTold(IVAN.id, ivanRequest.msg),
    );
    await settle();

    step(`Ivan adds the bot to the group "${GROUP.title}"`);
    fake.setMembership(GROUP.id, "member", IVAN);
    await until(
      "the group's access request, and the group told to wait",
      () => requestAllowButton(fake, GROUP.id) !== undefined && told(GROUP.id, texts.chats.pending),
    );
    await settle();

    const groupRequest = requestAllowButton(fake, GROUP.id)!;
    step(`Admin presses [${groupRequest.button.text}] for "${GROUP.title}" too`);
    await press(ADMIN, ADMIN.id, groupRequest.msg, groupRequest.button.raw);
    await until("the group to be allowed, the request marked and the group told", () =>
      allowedAndTold(GROUP.id, groupRequest.msg),
    );
    await settle();

    step("Four incidents appear in the SIEM (one full of HTML and Markdown, to show escaping)");
    const approveMe = emulator.state.addIncident({ severity: "High" });
    const closeMe = emulator.state.addIncident({ severity: "Medium" });
    const hostile = emulator.state.addHostileIncident({
      description: `<script>alert("x")</script> & <b>not bold</b> *not bold* _not italic_ \`rm -rf /\``,
      events: [{ description: `cmd.exe /c "echo <pwned> > C:\\x.txt" && del *.*` }],
    });
    const closedInSiem = emulator.state.addIncident({ severity: "Low" });
    const fourIds = [approveMe, closeMe, hostile, closedInSiem].map((i) => i.id);
    await until("each incident to reach both chats", async () => {
      for (const id of fourIds) if ((await store.outbox.copies(id)).length < 2) return false;
      return true;
    });
    await settle();

    step(`Ivan presses [${labels.approve}] on ${approveMe.key}`);
    const approveMsg = await ivanCopy(approveMe.id);
    const approve = incidentButton(approveMsg, "approve");
    if (!approveMsg || !approve) throw failed(`Ivan's copy of ${approveMe.key} has no Approve button`);
    await press(IVAN, IVAN.id, approveMsg, approve.raw);
    await until("every copy to show the approval", () => everyCopyShows(approveMe.id, "Approved", 2));
    await settle();

    step(`Ivan presses [${labels.close}] on ${closeMe.key}: the bot asks to confirm`);
    const closeMsg = await ivanCopy(closeMe.id);
    const close = incidentButton(closeMsg, "close");
    if (!closeMsg || !close) throw failed(`Ivan's copy of ${closeMe.key} has no Close button`);
    await press(IVAN, IVAN.id, closeMsg, close.raw);
    await until(
      "the confirmation buttons",
      async () => incidentButton(await ivanCopy(closeMe.id), "close_yes") !== undefined,
    );
    await settle();

    const confirmMsg = (await ivanCopy(closeMe.id))!;
    const yes = incidentButton(confirmMsg, "close_yes")!;
    step(`Ivan presses [${yes.text}]`);
    await press(IVAN, IVAN.id, confirmMsg, yes.raw);
    await until("every copy to show the closure", () => everyCopyShows(closeMe.id, "Closed", 2));
    await settle();

    step(`Someone closes ${closedInSiem.key} in the SIEM UI (not in Telegram)`);
    const changedAt = Date.now();
    emulator.state.setStatus(closedInSiem.id, "Closed", "closed in the MP SIEM web interface");
    await until("every copy to show the change", () => everyCopyShows(closedInSiem.id, "Closed", 2));
    print(
      `(every copy updated ${((Date.now() - changedAt) / 1000).toFixed(1)} s after the change; the service polls every 1 s)`,
    );
    await settle();

    step(
      `A burst: ${BURST_SIZE} incidents at once, more than a chat may receive one by one ` +
        `(${BURST_HIGH} of them High: those go alone and first, the rest in digests)`,
    );
    const burstIds = [
      ...Array.from({ length: BURST_SIZE - BURST_HIGH }, (_, i) =>
        emulator.state.addIncident({ severity: i % 2 === 0 ? "Medium" : "Low" }),
      ),
      ...emulator.state.addBurst(BURST_HIGH, { severity: "High" }),
    ].map((i) => i.id);
    await until("the burst to reach both chats", async () => {
      if ((await store.incidents.known(burstIds)).size < burstIds.length) return false;
      return (await store.outbox.pending(1)).length === 0;
    });
    await settle();

    const stats = fake.stats();
    const edits = (stats.byMethod.editMessageText ?? 0) + (stats.byMethod.editMessageReplyMarkup ?? 0);
    const health = await service.health();
    print("");
    print(
      `Done in ${Math.round((Date.now() - startedAt) / 1000)} s: ${emulator.state.listAll().length} incidents in the SIEM, ` +
        `${stats.byMethod.sendMessage ?? 0} messages sent, ${edits} edits, ` +
        `${stats.tooManyRequests} "429 Too Many Requests" answers; health: ${health.ok ? "ok" : health.reasons.join("; ")}`,
    );

    if (opts.follow) {
      emulator.state.setGeneratorRate(3, 10, 20);
      print("Following: a new incident about every 20 s and a burst of 20 every 10th. Ctrl+C to stop.");
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    return 0;
  } catch (error) {
    storyOver = true;
    if (error instanceof Interrupted || signal.aborted) return 0;
    if (error instanceof StepFailed) {
      print(`✗ ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    storyOver = true;
    await world?.close();
    unsubscribe();
    await fake.close();
  }
}
