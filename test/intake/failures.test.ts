// The loop survives a failing SIEM: backoff, one notice after a minute, one on recovery with how long
// it lasted and how much was caught up. The clock and the loop's sleep are fake, so a "minute" of
// outage takes milliseconds; the SIEM, its client and the store are real.

import { afterEach, describe, expect, it } from "vitest";
import { t } from "../../src/i18n/index.js";
import { BACKOFF_CAP_MS, OUTAGE_NOTICE_AFTER_MS } from "../../src/intake/index.js";
import { counterValue, fakeTime, type Harness, queuedPairs, startHarness, waitFor } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CHATS = [101, -100202];

describe("SIEM failures", () => {
  it("backs off through a 503 outage, tells the admins once after a minute and once on recovery, and catches up", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS });
    h.emu.state.addIncident();
    await h.intake.pollOnce();

    h.emu.state.failWith503(150); // by the emulator's clock, which is the fake one
    const missed = h.emu.state.addBurst(40);
    const outageStart = time.now();
    h.intake.start();

    await waitFor(() => h!.notices.length >= 1);
    const during = h.intake.status();
    expect(during.outageSince).toBe(outageStart);
    expect(during.consecutiveFailures).toBeGreaterThanOrEqual(3);
    expect(during.lastError).toMatch(/503/);
    const noticeAfter = (h.noticeTimes[0] ?? 0) - outageStart;
    expect(noticeAfter).toBeGreaterThanOrEqual(OUTAGE_NOTICE_AFTER_MS);
    // The notice came at the first attempt past one minute, not a whole backoff later.
    expect(noticeAfter).toBeLessThan(OUTAGE_NOTICE_AFTER_MS + 5_000);
    expect(h.notices[0]).toMatch(/^⚠️ The SIEM has been unreachable since \d\d:\d\d: .*HTTP 503/);

    await waitFor(() => h!.notices.length >= 2);
    const after = h.intake.status();
    expect(after.outageSince).toBeNull();
    expect(after.consecutiveFailures).toBe(0);
    const downFor = (after.lastSuccessAt ?? 0) - outageStart;
    expect(downFor).toBeGreaterThanOrEqual(150_000);
    expect(downFor).toBeLessThanOrEqual(150_000 + BACKOFF_CAP_MS);
    expect(h.notices[1]).toBe(
      `✅ The SIEM is back (down for ${t("en").formatDuration(downFor)}). Caught up on 40 missed incidents.`,
    );
    const queued = await queuedPairs(h.store);
    for (const incident of missed) {
      expect(queued.filter((p) => p.startsWith(`${incident.id}/`))).toHaveLength(2);
    }

    // Backoff grew while the SIEM failed and never passed the cap.
    const failedPolls = await counterValue(h.metrics.polls, { kind: "creation", result: "error" });
    expect(await counterValue(h.metrics.siemErrors, { kind: "server" })).toBe(failedPolls);
    const outageSleeps = time.sleeps.slice(0, failedPolls);
    expect(Math.max(...outageSleeps)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    expect(outageSleeps[2]).toBeGreaterThan(outageSleeps[0] ?? Number.POSITIVE_INFINITY);

    // More polls after the recovery: no further notices.
    const okPolls = await counterValue(h.metrics.polls, { kind: "creation", result: "ok" });
    await waitFor(
      async () => (await counterValue(h!.metrics.polls, { kind: "creation", result: "ok" })) >= okPolls + 3,
    );
    expect(h.notices).toHaveLength(2);
  });

  it("says nothing to the admins about an outage shorter than a minute", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS });
    await h.intake.pollOnce();
    h.emu.state.failWith503(20);
    h.intake.start();
    await waitFor(async () => (await counterValue(h!.metrics.siemErrors, { kind: "server" })) >= 1);
    await waitFor(() => h!.intake.status().outageSince === null && h!.intake.status().lastSuccessAt !== null);
    const okPolls = await counterValue(h.metrics.polls, { kind: "creation", result: "ok" });
    await waitFor(
      async () => (await counterValue(h!.metrics.polls, { kind: "creation", result: "ok" })) >= okPolls + 2,
    );
    expect(h.notices).toEqual([]);
  });

  it("keeps polling through malformed JSON and a call that never answers", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS, siemTimeoutMs: 400 });
    await h.intake.pollOnce();
    h.emu.state.hang(1);
    h.emu.state.malformedJson(2);
    const burst = h.emu.state.addBurst(10);
    h.intake.start();

    await waitFor(
      async () =>
        (await h!.store.incidents.known(burst.map((i) => i.id))).size === 10 &&
        h!.intake.status().consecutiveFailures === 0,
    );
    expect(await counterValue(h.metrics.siemErrors, { kind: "timeout" })).toBe(1);
    expect(await counterValue(h.metrics.siemErrors, { kind: "malformed" })).toBe(2);
    expect(h.intake.status().consecutiveFailures).toBe(0);
    expect(await queuedPairs(h.store)).toHaveLength(20);

    // The loop is still alive afterwards.
    const okPolls = await counterValue(h.metrics.polls, { kind: "creation", result: "ok" });
    const later = h.emu.state.addIncident();
    await waitFor(async () => (await h!.store.incidents.known([later.id])).size === 1);
    expect(await counterValue(h.metrics.polls, { kind: "creation", result: "ok" })).toBeGreaterThan(okPolls);
  });

  it("backs off to the cap on wrong credentials without crashing, and tells the admins once", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS, password: "not-the-password" });
    h.intake.start();
    await waitFor(() => h!.intake.status().consecutiveFailures >= 6);
    await h.intake.stop();

    const status = h.intake.status();
    expect(status.lastError).toMatch(/refused the login/);
    expect(status.lastError).not.toContain("not-the-password");
    expect(status.lastSuccessAt).toBeNull();
    expect(await counterValue(h.metrics.siemErrors, { kind: "credentials" })).toBe(
      status.consecutiveFailures,
    );
    expect(h.notices).toHaveLength(1);
    expect(h.notices[0]).toMatch(/unreachable since .*refused the login/);
    expect(h.notices[0]).not.toContain("not-the-password");

    // Waits go to the cap at once; only the wait that meets the one-minute notice is shorter.
    const afterNotice = time.sleeps.slice(2);
    expect(afterNotice.length).toBeGreaterThanOrEqual(3);
    for (const ms of afterNotice) {
      expect(ms).toBeGreaterThanOrEqual(BACKOFF_CAP_MS / 2);
      expect(ms).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    }
    // Every attempt is one login request: no retry storm against the account.
    const logins = h.emu.state.stats().requests["POST /connect/token"] ?? 0;
    expect(logins).toBeLessThanOrEqual(status.consecutiveFailures * 2);
  });

  it("stop() returns within 5 s even while a SIEM call hangs", async () => {
    h = await startHarness({ chats: CHATS, siemTimeoutMs: 30_000 });
    await h.intake.pollOnce();
    h.emu.state.hang(5);
    h.intake.start();
    await waitFor(() => h!.intake.status().lastAttemptAt !== null);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await h.intake.stop();
    expect(Date.now() - started).toBeLessThan(6_000);
  }, 10_000);
});
