// A small HTTP proxy on 127.0.0.1 that answers every request `delayMs` late: the request goes on to
// the target at once (so the fake records a message when it would reach Telegram), the answer is held
// until `delayMs` after the request arrived. A world with a 150 ms round trip to the Bot API, without
// touching the fake itself.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface DelayProxy {
  /** Base URL to use instead of the target's, e.g. as TELEGRAM_API_ROOT. */
  url: string;
  /** Requests answered so far. */
  requests(): number;
  close(): Promise<void>;
}

export async function startDelayProxy(opts: { target: string; delayMs: number }): Promise<DelayProxy> {
  const target = new URL(opts.target);
  let answered = 0;
  const held = new Set<NodeJS.Timeout>();

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const arrivedAt = Date.now();
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const timer = setTimeout(
            () => {
              held.delete(timer);
              answered++;
              const headers = { ...answer.headers };
              delete headers["transfer-encoding"];
              headers["content-length"] = String(Buffer.concat(chunks).length);
              res.writeHead(answer.statusCode ?? 502, headers);
              res.end(Buffer.concat(chunks));
            },
            Math.max(0, arrivedAt + opts.delayMs - Date.now()),
          );
          held.add(timer);
        });
      },
    );
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(upstream);
  }

  const server = createServer(forward);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => answered,
    async close() {
      for (const timer of held) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
