// `mpsiem-telegram demo`: the bundled MP SIEM emulator plus the real service wired to it, so a newcomer
// sees the product work without a SIEM. With TELEGRAM_BOT_TOKEN and TELEGRAM_ADMIN_IDS it uses the real
// Telegram (live.ts); without them it plays a short script against a local fake of the Bot API and
// prints every chat's messages (script.ts).

import { runLive } from "./live.js";
import { playScript } from "./script.js";
import { DemoSettingsError, readDemoSettings } from "./settings.js";

export { DemoSettingsError, readDemoSettings } from "./settings.js";
export { TranscriptPrinter } from "./transcript.js";

export interface DemoOptions {
  /** After the script, keep generating incidents until Ctrl+C. */
  follow?: boolean;
  /** A YAML settings file (as for `run --config`); only the Telegram, locale and time-zone settings are read. */
  configFile?: string;
  /** Defaults: process.env, the working directory, stdout, stderr. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  print?: (line: string) => void;
  logTo?: NodeJS.WritableStream;
  /** Stops the demo like Ctrl+C (in addition to SIGINT/SIGTERM). */
  signal?: AbortSignal;
  stepTimeoutMs?: number;
}

const EXIT_FAILURE = 1;
const EXIT_SETTINGS = 2;

/**
 * Runs the demo to its end (the script, or Ctrl+C) and resolves to the exit code: 0 done or stopped,
 * 1 a step failed or Telegram is unreachable, 2 a setting must be fixed. The code is also set as
 * process.exitCode, so the CLI exits with it.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logTo = opts.logTo ?? process.stderr;
  const code = await runWithSignals(opts, print, logTo);
  process.exitCode = code;
  return code;
}

async function runWithSignals(
  opts: DemoOptions,
  print: (line: string) => void,
  logTo: NodeJS.WritableStream,
): Promise<number> {
  let settings: ReturnType<typeof readDemoSettings>;
  try {
    settings = readDemoSettings({ env: opts.env, cwd: opts.cwd, configFile: opts.configFile });
  } catch (error) {
    if (!(error instanceof DemoSettingsError)) throw error;
    print(`✗ ${error.message}`);
    return EXIT_SETTINGS;
  }

  const stop = new AbortController();
  const onStopRequest = () => stop.abort();
  opts.signal?.addEventListener("abort", onStopRequest, { once: true });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      print(`${signal} again: exiting now`);
      process.exit(EXIT_FAILURE);
    }
    print(`${signal} received: stopping the demo (send it again to exit at once)`);
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const common = {
      locale: settings.locale,
      timeZone: settings.timeZone,
      print,
      logTo,
      signal: stop.signal,
    };
    const code = settings.telegram
      ? await runLive({ ...common, telegram: settings.telegram })
      : await playScript({ ...common, follow: opts.follow === true, stepTimeoutMs: opts.stepTimeoutMs });
    if (stop.signal.aborted) print("demo stopped");
    return code;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    opts.signal?.removeEventListener("abort", onStopRequest);
  }
}
