// What the two-instance chaos run (and the failover benchmark) rely on to tell processes apart: the
// tagging proxy names the process in every call the fake records and fails a call the way the fake
// failed it; the /proc lookup finds a process's TCP ports (so its PostgreSQL backends can be ended).
import { createServer, type Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeBotApi, startFakeBotApi } from "../../src/botapi-fake/index.js";
import { PROCESS_PARAM, startTaggingProxy, type TaggingProxy } from "../helpers/tagging-proxy.js";
import { tcpPortsOf } from "./postgres-faults.js";

describe("the tagging proxy", () => {
  let fake: FakeBotApi | undefined;
  let proxy: TaggingProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await fake?.close();
  });

  it("names the process in every call the fake records, and passes the answer through", async () => {
    fake = await startFakeBotApi();
    proxy = await startTaggingProxy(fake.apiRoot, 3);
    fake.addChat({ id: 42, type: "private", first_name: "Alice" });
    const res = await fetch(`${proxy.apiRoot}/bot${fake.token}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat_id: 42, text: "hello" }),
    });
    const answer = (await res.json()) as { ok: boolean; result?: { message_id: number } };
    expect(answer.ok).toBe(true);
    expect(fake.messages(42).map((m) => m.text)).toEqual(["hello"]);
    const call = fake.calls.at(-1)!;
    expect(call.method).toBe("sendMessage");
    expect(Number(call.params[PROCESS_PARAM])).toBe(3);
  });

  it("drops the caller's connection when the fake drops its own (no answer invented)", async () => {
    fake = await startFakeBotApi();
    proxy = await startTaggingProxy(fake.apiRoot, 0);
    fake.resetConnections(1);
    await expect(fetch(`${proxy.apiRoot}/bot${fake.token}/getMe`)).rejects.toThrow(/fetch failed/);
    const ok = (await (await fetch(`${proxy.apiRoot}/bot${fake.token}/getMe`)).json()) as { ok: boolean };
    expect(ok.ok).toBe(true);
  });
});

describe("a process's TCP ports, from /proc", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("finds the local port of a connection this process holds, and not of one it does not", async () => {
    server = createServer((s) => s.on("error", () => undefined));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(port, "127.0.0.1", resolve));
    try {
      const ports = tcpPortsOf(process.pid);
      expect(ports.has(socket.localPort!)).toBe(true);
      expect(ports.has(port)).toBe(true); // the listening socket is ours too
      expect(tcpPortsOf(2 ** 22 + 1).size).toBe(0); // no such process
    } finally {
      socket.destroy();
    }
  });
});
