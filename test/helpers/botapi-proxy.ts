// A recording proxy in front of the fake Bot API, one per service process (its TELEGRAM_API_ROOT), so a
// test can tell which process made which call and when it arrived: the fake itself sees one bot.
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface ProxiedCall {
  /** Date.now() when the request reached the proxy (the fake gets it a moment later). */
  at: number;
  method: string;
  chatId: number | null;
  /** The message id in a successful sendMessage answer. */
  messageId: number | null;
  /** The answer's ok; null while unanswered or when the connection failed. */
  ok: boolean | null;
}

export interface BotApiProxy {
  apiRoot: string;
  calls: ProxiedCall[];
  /** Calls of these methods (default: sends and edits). */
  posts(methods?: readonly string[]): ProxiedCall[];
  close(): Promise<void>;
}

const POSTS = ["sendMessage", "editMessageText", "editMessageReplyMarkup", "sendAnimation"];

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startBotApiProxy(target: string): Promise<BotApiProxy> {
  const calls: ProxiedCall[] = [];
  const server: Server = createServer((req, res) => {
    const call: ProxiedCall = {
      at: Date.now(),
      method: (req.url ?? "").split("?")[0]!.split("/").pop() ?? "",
      chatId: null,
      messageId: null,
      ok: null,
    };
    calls.push(call);
    const upstream = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) upstream.abort();
    });
    void (async () => {
      try {
        const body = await readBody(req);
        if (String(req.headers["content-type"] ?? "").includes("json")) {
          try {
            const chatId = (JSON.parse(body.toString("utf8")) as { chat_id?: unknown }).chat_id;
            if (typeof chatId === "number") call.chatId = chatId;
          } catch {
            // not JSON after all
          }
        }
        const answer = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers: req.headers["content-type"] ? { "content-type": String(req.headers["content-type"]) } : {},
          body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
          signal: upstream.signal,
        });
        const text = await answer.text();
        try {
          const parsed = JSON.parse(text) as { ok?: boolean; result?: { message_id?: unknown } };
          call.ok = parsed.ok === true;
          if (typeof parsed.result?.message_id === "number") call.messageId = parsed.result.message_id;
        } catch {
          call.ok = false;
        }
        res.writeHead(answer.status, {
          "content-type": answer.headers.get("content-type") ?? "application/json",
        });
        res.end(text);
      } catch {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    calls,
    posts: (methods = POSTS) => calls.filter((c) => methods.includes(c.method)),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
