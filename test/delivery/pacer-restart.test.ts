// Pacer.recordPastSend: the sends of the previous run still count in Telegram's windows after a restart.
import { expect, it } from "vitest";
import { Pacer } from "../../src/delivery/pacer.js";

function virtualClock(start = 1_000_000) {
  const clock = { t: start };
  const now = () => clock.t;
  const sleep = async (ms: number, signal: AbortSignal) => {
    if (signal.aborted) throw signal.reason;
    clock.t += ms;
  };
  return { clock, now, sleep };
}

const GROUP = -100500;

it("keeps a group's minute window and a chat's burst across a restart", async () => {
  const { clock, now, sleep } = virtualClock();
  const limits = { perChatPerSec: 1, perChatBurst: 2, perGroupPerMin: 5, perBotPerSec: 30 };
  const pacer = new Pacer({ limits, now, sleep });
  // The previous run sent 4 messages to the group in the last 10 s and one to a private chat just now.
  for (const ago of [10_000, 8_000, 6_000, 4_000]) pacer.recordPastSend(GROUP, clock.t - ago);
  pacer.recordPastSend(7, clock.t);
  // The private chat has one token of two left: one send at once, the next a second later.
  const privateStart = clock.t;
  await pacer.acquire(7);
  await pacer.acquire(7);
  expect(clock.t - privateStart).toBe(1_000);
  // One more fits the group's minute; the next waits until the oldest send is a minute old.
  const start = clock.t;
  await pacer.acquire(GROUP);
  expect(clock.t).toBe(start);
  await pacer.acquire(GROUP);
  expect(clock.t).toBe(privateStart - 10_000 + 60_000);
});

it("ignores sends older than a minute or in the future", async () => {
  const { clock, now, sleep } = virtualClock();
  const pacer = new Pacer({ limits: { perGroupPerMin: 1 }, now, sleep });
  pacer.recordPastSend(GROUP, clock.t - 60_000);
  pacer.recordPastSend(GROUP, clock.t + 5_000);
  const start = clock.t;
  await pacer.acquire(GROUP);
  expect(clock.t).toBe(start);
});
