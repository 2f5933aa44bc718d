// Webhook mode (TELEGRAM_WEBHOOK_URL): every instance listens for Telegram's posts on
// TELEGRAM_WEBHOOK_HOST:TELEGRAM_WEBHOOK_PORT, at the URL's path, behind whatever terminates TLS.
// grammY's webhookCallback checks the secret token (401 when wrong); the inbox decides which instance
// handles an update (inbox.ts). An update that could not be recorded is answered 500: Telegram retries.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { describeError } from "./notify.js";

/** Telegram's updates are small; anything far larger is not from Telegram. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookListenerOptions {
  host: string;
  port: number;
  /** The path of TELEGRAM_WEBHOOK_URL; posts elsewhere get 404. */
  path: string;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  logger: Logger;
}

export interface RunningWebhookListener {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookListener(opts: WebhookListenerOptions): Promise<RunningWebhookListener> {
  const path = opts.path || "/";
  const server: Server = createServer((req, res) => {
    const requested = (req.url ?? "/").split("?")[0];
    if (requested !== path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    // Telegram always sends a length; without one the size could not be bounded before reading.
    const length = req.headers["content-length"];
    if (length === undefined || !/^\d+$/.test(length)) {
      res.writeHead(411).end();
      req.resume();
      return;
    }
    if (Number(length) > MAX_BODY_BYTES) {
      res.writeHead(413).end();
      req.resume();
      return;
    }
    opts.handle(req, res).catch((error: unknown) => {
      opts.logger.warn(
        { err: describeError(error) },
        "a Telegram webhook post failed; Telegram will retry it",
      );
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      if (!res.writableEnded) res.end("error\n");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
