// runDemo in this process: the paths the CLI runs cannot easily reach (a step that never completes).
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runDemo } from "../../src/demo/index.js";
import { tempDir } from "../helpers/tmp.js";

let folder: ReturnType<typeof tempDir>;
beforeEach(() => {
  folder = tempDir("mpsiem-demo-run-");
});
afterEach(() => {
  process.exitCode = undefined;
  folder.cleanup();
});

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = "";
  return stream;
}

describe("runDemo", () => {
  it("a step that does not complete in time is named, everything stops, and the exit code is 1", async () => {
    const lines: string[] = [];
    const logs = sink();
    const signalListeners = process.listenerCount("SIGINT");
    const code = await runDemo({
      env: {},
      cwd: folder.dir,
      print: (line) => lines.push(line),
      logTo: logs,
      stepTimeoutMs: 1,
    });
    expect(code).toBe(1);
    expect(process.exitCode).toBe(1);
    expect(lines.at(-1)).toMatch(/^✗ (starting the demo|step \d+ \(.+\)) failed: waited 0\.001 s for .+/);
    // Its Ctrl+C handler is gone with it.
    expect(process.listenerCount("SIGINT")).toBe(signalListeners);
  }, 30_000);

  it("stops at once, with 0, when its signal aborts", async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const running = runDemo({
      env: {},
      cwd: folder.dir,
      print: (line) => lines.push(line),
      logTo: sink(),
      signal: stop.signal,
    });
    const deadline = Date.now() + 20_000;
    while (!lines.some((l) => l.startsWith("1. ")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    expect(await running).toBe(0);
    expect(lines.at(-1)).toBe("demo stopped");
    expect(lines.some((l) => l.startsWith("Done in"))).toBe(false);
  }, 30_000);
});
