// The fake's webhook: after setWebhook, updates are posted to the URL with the secret token, in order,
// and a refused post is retried; getUpdates answers 409 while the webhook is set; deleteWebhook ends it.
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { ALICE, apiError, startFake } from "./helpers.js";

describe("fake Bot API: webhook", () => {
  it("posts updates to the webhook with the secret, retries a refused post, and refuses getUpdates meanwhile", async () => {
    const { fake, api } = await startFake();
    const received: Array<{ secret: string | undefined; updateId: number }> = [];
    let refuseNext = 1;
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (refuseNext-- > 0) return void res.writeHead(500).end();
        const update = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { update_id: number };
        received.push({
          secret: req.headers["x-telegram-bot-api-secret-token"] as string,
          updateId: update.update_id,
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    const address = hook.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hook`;
    try {
      expect(await api.setWebhook(url, { secret_token: "s3cret" })).toBe(true);
      expect(fake.webhookInfo()).toEqual({ url, secret: "s3cret" });
      expect((await api.getWebhookInfo()).url).toBe(url);
      const first = fake.sendText(ALICE, ALICE.id, "one");
      const second = fake.sendText(ALICE, ALICE.id, "two");
      await fake.waitFor(() => received.length === 2 && fake.webhookPosts().length === 3, 5_000);
      expect(received).toEqual([
        { secret: "s3cret", updateId: first },
        { secret: "s3cret", updateId: second },
      ]);
      expect(fake.webhookPosts().map((p) => [p.updateId, p.status])).toEqual([
        [first, 500],
        [first, 200],
        [second, 200],
      ]);
      expect(await apiError(api.getUpdates({ timeout: 0 }))).toMatchObject({ error_code: 409 });
      await expect(api.setWebhook(url, { secret_token: "no spaces" })).rejects.toThrow(/secret token/);

      expect(await api.deleteWebhook()).toBe(true);
      expect(fake.webhookInfo()).toBeNull();
      const third = fake.sendText(ALICE, ALICE.id, "three");
      expect((await api.getUpdates({ timeout: 0 })).map((u) => u.update_id)).toEqual([third]);
    } finally {
      await new Promise<void>((resolve) => hook.close(() => resolve()));
      await fake.close();
    }
  });
});
