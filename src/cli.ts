#!/usr/bin/env node
// The `mpsiem-telegram` command: run (default), check, emulator, demo.
// Exit codes: 0 success, 1 failure (or a failed check), 2 invalid configuration.

import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import type pino from "pino";
// app.js and check.js load the whole service (grammY, SQLite, HTTP clients): imported only by the
// sub-commands that need them, so --help and configuration errors answer at once.
import type { Service } from "./app.js";
import { ConfigError, configSecrets, describeConfig, loadConfig } from "./config/load.js";
import { describePolicy } from "./config/policies.js";
import type { Config } from "./config/types.js";
import { createLogger, redactSecrets } from "./log/logger.js";

const STOP_LIMIT_MS = 5_000;
const EXIT_FAILURE = 1;
const EXIT_CONFIG = 2;

/** Secrets known so far, so even an unexpected start-up error is printed without them. */
let knownSecrets: string[] = [];
let debugOutput = process.env.LOG_LEVEL?.trim().toLowerCase() === "debug";

function printOut(line: string): void {
  process.stdout.write(`${redactSecrets(line, knownSecrets)}\n`);
}

function printErr(line: string): void {
  process.stderr.write(`${redactSecrets(line, knownSecrets)}\n`);
}

function packageVersion(): string {
  try {
    // ../package.json from both src/cli.ts and dist/cli.js.
    const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Loads the configuration; on problems prints them (one line each) and returns undefined with exit code 2. */
function loadConfigOrReport(configFile: string | undefined): Config | undefined {
  try {
    const config = loadConfig({ configFile });
    knownSecrets = configSecrets(config);
    debugOutput = config.logLevel === "debug";
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) printErr(`config error: ${problem}`);
    printErr("see README for every setting");
    process.exitCode = EXIT_CONFIG;
    return undefined;
  }
}

/**
 * On SIGTERM/SIGINT calls `stop` (at most 5 s) and exits: 0 after a clean stop, 1 if it failed or
 * took too long. A second signal exits at once.
 */
function stopOnSignals(stop: () => Promise<void>, say: (line: string) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    say(`${signal} received: stopping (at most ${STOP_LIMIT_MS / 1000} s; send it again to exit at once)`);
    const limit = setTimeout(() => {
      say(`did not stop within ${STOP_LIMIT_MS / 1000} s: exiting anyway`);
      process.exit(EXIT_FAILURE);
    }, STOP_LIMIT_MS);
    stop().then(
      () => {
        clearTimeout(limit);
        process.exit(0);
      },
      (error: unknown) => {
        clearTimeout(limit);
        say(`stopping failed: ${errorText(error)}`);
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

function errorText(error: unknown): string {
  if (debugOutput && error instanceof Error && error.stack) return error.stack;
  return error instanceof Error ? error.message : String(error);
}

function installCrashHandlers(logger: pino.Logger): void {
  // A stray rejected promise is a bug, but not a reason to stop delivering incidents.
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, "unhandled promise rejection (a bug); the service keeps running");
  });
  process.on("uncaughtException", (error) => {
    logger.fatal(
      { err: error },
      "uncaught exception (a bug); exiting so the supervisor restarts the service",
    );
    process.exit(EXIT_FAILURE);
  });
}

// ---- sub-commands ----

async function runCommand(opts: { config?: string }): Promise<void> {
  const config = loadConfigOrReport(opts.config);
  if (!config) return;
  const { logger, ring } = createLogger({
    level: config.logLevel,
    secrets: knownSecrets,
    pretty: process.stdout.isTTY === true,
  });
  installCrashHandlers(logger);
  // Handlers go in before the first line is written: whoever reads that line may signal at once.
  // Signals may also arrive while the service is still starting: it is stopped as soon as it exists.
  let started: Promise<Service> | undefined;
  stopOnSignals(
    async () => {
      if (started) await (await started).stop();
    },
    (line) => logger.info(line),
  );
  // `run` lasts until a signal, even while the service has nothing scheduled.
  setInterval(() => {}, 2 ** 31 - 1);

  if (!config.siem.tlsVerify) {
    logger.warn(
      "MPSIEM_TLS_VERIFY=false: the SIEM's TLS certificate is NOT checked, so anyone on the network path " +
        "could impersonate it; prefer MPSIEM_CA_FILE",
    );
  }
  logger.info(
    {
      version: packageVersion(),
      config: describeConfig(config),
      ...(config.escalation ? { escalation: config.escalation.map(describePolicy) } : {}),
    },
    "mpsiem-telegram starting",
  );
  started = import("./app.js").then(({ startService }) => startService(config, { logger, ring }));
  try {
    await started;
  } catch (error) {
    // One clear line; the stack only when asked for with LOG_LEVEL=debug.
    const reason = error instanceof Error ? error.message : String(error);
    logger.error(debugOutput ? { err: error } : {}, `the service could not start: ${reason}`);
    process.exit(EXIT_FAILURE);
  }
  logger.info("service started");
}

async function checkCommand(opts: { config?: string }): Promise<void> {
  const config = loadConfigOrReport(opts.config);
  if (!config) return;
  printOut("✓ configuration valid");
  const { runChecks } = await import("./check.js");
  const report = await runChecks(config);
  for (const line of report.lines) printOut(line);
  // Exit explicitly: a check may leave keep-alive sockets open that would hold the process.
  process.exit(report.ok ? 0 : EXIT_FAILURE);
}

/** The emulator sub-command's options as commander parses them. */
interface EmulatorCliOptions {
  port: number;
  authPort: number;
  host: string;
  seed?: number;
  rate: number;
  tls: boolean;
  username: string;
  password: string;
  clientSecret: string;
}

async function emulatorCommand(opts: EmulatorCliOptions): Promise<void> {
  // Loaded only for this sub-command: `run` never carries the emulator.
  const emulator = await import("./emulator/index.js");
  const { rate, ...rest } = opts;
  // Handlers first: a script may signal as soon as it reads the printed URLs.
  let running: Promise<{ close(): Promise<void> }> | undefined;
  stopOnSignals(async () => {
    if (running) await (await running).close();
  }, printErr);
  running = emulator.runEmulatorCommand({
    ...rest,
    ratePerMinute: rate,
    print: (line) => process.stdout.write(`${line}\n`),
  });
  await running;
}

async function demoCommand(opts: { follow?: boolean; config?: string }): Promise<void> {
  // Loaded only for this sub-command: `run` never carries the demo, the emulator or the fake Bot API.
  const demo = await import("./demo/index.js");
  const result = await demo.runDemo({ follow: opts.follow === true, configFile: opts.config });
  if (typeof result === "number") process.exitCode = result;
  // If the demo hands back something to stop, stop it on Ctrl+C; otherwise it manages its own lifetime.
  const handle = result as { stop?: () => Promise<void>; close?: () => Promise<void> } | undefined;
  const stop = handle?.stop ?? handle?.close;
  if (typeof stop === "function") stopOnSignals(() => stop.call(handle), printErr);
}

// ---- option parsers ----

function portOption(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new InvalidArgumentError("expected a port number 0-65535.");
  return port;
}

function wholeNumberOption(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number.");
  return Number(value);
}

function rateOption(value: string): number {
  const rate = Number(value);
  if (value.trim() === "" || !Number.isFinite(rate) || rate < 0) {
    throw new InvalidArgumentError("expected incidents per minute, a number >= 0.");
  }
  return rate;
}

function buildProgram(): Command {
  const program = new Command()
    .name("mpsiem-telegram")
    .description("Forwards MaxPatrol SIEM 10 incidents to Telegram chats and lets the SOC act on them there.")
    .version(packageVersion())
    .showHelpAfterError();
  const configOption = [
    "--config <file>",
    "YAML file with settings (environment variables win over it)",
  ] as const;

  program
    .command("run", { isDefault: true })
    .description("run the service (the default)")
    .option(...configOption)
    .action(runCommand);

  program
    .command("check")
    .description(
      "validate the configuration, log in to the SIEM, call Telegram getMe; exit 0 only if all work",
    )
    .option(...configOption)
    .action(checkCommand);

  program
    .command("emulator")
    .description("start the bundled MP SIEM emulator (for demos and tests)")
    .option("--port <port>", "Core API port", portOption, 9443)
    .option("--auth-port <port>", "port of /connect/token", portOption, 3334)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--seed <n>", "random seed, for repeatable incidents", wholeNumberOption)
    .option("--rate <n>", "new incidents per minute", rateOption, 2)
    .option("--tls", "serve HTTPS with a self-signed certificate", false)
    .option("--username <name>", "account user name it accepts", "siem")
    .option("--password <password>", "account password it accepts", "siem")
    .option("--client-secret <secret>", "OAuth client secret it accepts", "emulator-secret")
    .action(emulatorCommand);

  program
    .command("demo")
    .description("the emulator plus the service wired to it: see the whole thing work without a SIEM")
    .option("--follow", "keep running and show what happens until Ctrl+C", false)
    .option(...configOption)
    .action(demoCommand);

  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  printErr(`mpsiem-telegram: ${errorText(error)}${debugOutput ? "" : " (LOG_LEVEL=debug shows details)"}`);
  process.exitCode = EXIT_FAILURE;
}
