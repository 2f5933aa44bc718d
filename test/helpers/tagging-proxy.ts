// A pass-through proxy in front of the fake Bot API, one per service process of a run with several
// instances (the chaos run, the failover benchmark): it adds `test_process=<index>` to every call's
// query, so the fake records which
// process made it (the fake reads query parameters as call parameters; Telegram ignores unknown ones).
// Nothing else changes: bodies stream through, and when the fake drops a connection the proxy drops the
// service's, so the service meets the same failure it would meet without the proxy.
import { Agent, createServer, request, type Server } from "node:http";

export interface TaggingProxy {
  apiRoot: string;
  close(): Promise<void>;
}

/** The parameter the fake records; the run reads the process index from it. */
export const PROCESS_PARAM = "test_process";

export async function startTaggingProxy(target: string, processIndex: number): Promise<TaggingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    const tagged = `${path}${path.includes("?") ? "&" : "?"}${PROCESS_PARAM}=${processIndex}`;
    const headers = { ...req.headers, host: upstream.host };
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: tagged,
        headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("error", () => res.destroy());
      },
    );
    // The fake dropped the connection (or could not be reached): so does the proxy.
    forward.on("error", () => {
      res.destroy();
      req.socket.destroy();
    });
    // The service gave up (a timeout, a stop): the fake sees its call abandoned too.
    res.on("close", () => {
      if (!res.writableFinished) forward.destroy();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
