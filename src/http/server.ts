// The operator's window into the service: GET /healthz and GET /metrics on BOT_HTTP_HOST:BOT_HTTP_PORT.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.js";

export interface HealthReport {
  ok: boolean;
  /** Why it is not ok, one short sentence per problem. */
  reasons: string[];
  [detail: string]: unknown;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  health: () => Promise<HealthReport>;
}

export interface RunningHttpServer {
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (path === "/healthz") {
      opts.health().then(
        (report) => send(report.ok ? 200 : 503, "application/json", JSON.stringify(report)),
        (error: unknown) =>
          send(
            503,
            "application/json",
            JSON.stringify({ ok: false, reasons: [`health check failed: ${String(error)}`] }),
          ),
      );
      return;
    }
    if (path === "/metrics") {
      opts.metrics.text().then(
        (text) => send(200, opts.metrics.registry.contentType, text),
        (error: unknown) => send(500, "text/plain", `metrics failed: ${String(error)}`),
      );
      return;
    }
    send(404, "text/plain", "not found: try /healthz or /metrics\n");
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
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
