// AdminNotifier never throws and reports which admins got the notice; with TELEGRAM_PROXY set, every
// Bot API call goes through the proxy (a real CONNECT proxy on loopback here).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { startTelegramHarness } from "../helpers/telegram-harness.js";

describe("AdminNotifier", () => {
  it("sends to every admin it can reach, skips the rest, and never throws", async () => {
    const h = await startTelegramHarness();
    try {
      h.fake.blockBot(h.admins[1]!.id);
      const copies = await h.telegram.notifier.notify("SIEM is down <b>&</b>");
      expect(copies.map((c) => c.adminId)).toEqual([h.admins[0]!.id]);
      const sent = h.fake.messages(h.admins[0]!.id).find((m) => m.messageId === copies[0]!.messageId)!;
      expect(sent.plainText).toBe("SIEM is down <b>&</b>"); // plain text: nothing parsed
      h.fake.failNext("sendMessage", { code: 400, description: "Bad Request: chat not found" }, 2);
      await expect(h.telegram.notifier.notify("nobody gets this")).resolves.toEqual([]);
    } finally {
      await h.close();
    }
  });
});

/** A minimal HTTP CONNECT proxy on loopback that counts the tunnels it opened. */
async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; server: Server }> {
  const tunnels: string[] = [];
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on("connect", (req, client, head) => {
    const [host, port] = (req.url ?? "").split(":");
    tunnels.push(req.url ?? "");
    const upstream = connect(Number(port), host!, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels, server };
}

describe("TELEGRAM_PROXY", () => {
  it("routes the Bot API through an http:// proxy", async () => {
    const proxy = await startConnectProxy();
    const h = await startTelegramHarness({
      configure: (c) => {
        c.telegram.proxy = proxy.url;
      },
    });
    try {
      const user = { id: 93_001, first_name: "ViaProxy" };
      h.fake.addChat({ id: user.id, type: "private", first_name: user.first_name });
      await h.say(user, user.id, "/id");
      const fakePort = new URL(h.fake.apiRoot).port;
      expect(proxy.tunnels.length).toBeGreaterThan(0);
      expect(proxy.tunnels.every((t) => t === `127.0.0.1:${fakePort}`)).toBe(true);
    } finally {
      await h.close();
      proxy.server.closeAllConnections();
      await new Promise((r) => proxy.server.close(r));
    }
  });
});
