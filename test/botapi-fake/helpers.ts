// Shared set-up for the fake Bot API tests: a real grammY client over loopback HTTP.
import { Api, GrammyError } from "grammy";
import { afterEach } from "vitest";
import { type FakeBotApi, type FakeBotApiOptions, startFakeBotApi } from "../../src/botapi-fake/index.js";

const started: FakeBotApi[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

/** Starts a fake that is closed after the test, and a grammY Api pointed at it. */
export async function startFake(opts: FakeBotApiOptions = {}): Promise<{ fake: FakeBotApi; api: Api }> {
  const fake = await startFakeBotApi(opts);
  started.push(fake);
  return { fake, api: new Api(fake.token, { apiRoot: fake.apiRoot }) };
}

/** The GrammyError a call fails with (fails the test if the call succeeds or fails otherwise). */
export async function apiError(call: Promise<unknown>): Promise<GrammyError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof GrammyError) return error;
    throw error;
  }
  throw new Error("expected the Bot API call to fail");
}

/** A raw HTTP call, for checking status codes and body shapes exactly. */
export async function rawCall(
  fake: FakeBotApi,
  method: string,
  init: { body?: string; contentType?: string; token?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${fake.apiRoot}/bot${init.token ?? fake.token}/${method}`, {
    method: "POST",
    headers: { "content-type": init.contentType ?? "application/json" },
    body: init.body ?? "{}",
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

export const ALICE = { id: 111, username: "alice", first_name: "Alice" };
export const BOB = { id: 222, username: "bob", first_name: "Bob" };

/** Rejects if the promise does not settle within ms (bounds waits that would otherwise last a poll timeout). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
