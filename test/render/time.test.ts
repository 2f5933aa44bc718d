import { describe, expect, it } from "vitest";
import { formatClock, formatTime, formatTimeNear } from "../../src/render/index.js";

const at = new Date("2024-03-12T06:12:00Z");

describe("formatTime", () => {
  it("shows the time in the configured zone, ru as dd.MM.yyyy", () => {
    expect(formatTime(at, "Europe/Moscow", "ru")).toBe("12.03.2024 09:12:00");
    expect(formatTime(at, "UTC", "ru")).toBe("12.03.2024 06:12:00");
  });

  it("uses ISO order for en", () => {
    expect(formatTime(at, "Europe/Moscow", "en")).toBe("2024-03-12 09:12:00");
  });

  it("handles zones with half-hour offsets and the date change", () => {
    expect(formatTime(new Date("2024-03-12T20:00:00Z"), "Asia/Kolkata", "ru")).toBe("13.03.2024 01:30:00");
  });

  it("shows midnight as 00, not 24", () => {
    expect(formatTime(new Date("2024-03-11T21:00:00Z"), "Europe/Moscow", "ru")).toBe("12.03.2024 00:00:00");
  });

  it("shows a dash for an invalid or missing date instead of throwing", () => {
    expect(formatTime(new Date(Number.NaN), "Europe/Moscow", "ru")).toBe("—");
    expect(formatTime(null as unknown as Date, "Europe/Moscow", "en")).toBe("—");
  });

  it("falls back to UTC, and says so, for an unknown zone", () => {
    expect(formatTime(at, "Mars/Olympus", "ru")).toBe("12.03.2024 06:12:00 UTC");
  });

  it("copes with the extremes of the Date range", () => {
    expect(formatTime(new Date(8.64e15), "Europe/Moscow", "ru")).toMatch(/275760/);
    expect(typeof formatTime(new Date(-8.64e15), "Europe/Moscow", "en")).toBe("string");
  });
});

describe("formatClock and formatTimeNear", () => {
  it("formatClock gives hours and minutes in the zone", () => {
    expect(formatClock(new Date("2024-03-12T09:03:59Z"), "Europe/Moscow", "ru")).toBe("12:03");
    expect(formatClock(new Date(Number.NaN), "UTC", "en")).toBe("—");
  });

  it("formatTimeNear omits the date on the reference's day in the zone", () => {
    expect(formatTimeNear(new Date("2024-03-12T09:03:00Z"), at, "Europe/Moscow", "ru")).toBe("12:03");
  });

  it("formatTimeNear includes the date on another day", () => {
    expect(formatTimeNear(new Date("2024-03-13T09:03:00Z"), at, "Europe/Moscow", "ru")).toBe(
      "13.03.2024 12:03",
    );
    expect(formatTimeNear(new Date("2024-03-13T09:03:00Z"), at, "Europe/Moscow", "en")).toBe(
      "2024-03-13 12:03",
    );
  });

  it("formatTimeNear compares days in the zone, not in UTC", () => {
    // 21:30 UTC on the 12th is already the 13th in Moscow.
    expect(formatTimeNear(new Date("2024-03-12T21:30:00Z"), at, "Europe/Moscow", "ru")).toBe(
      "13.03.2024 00:30",
    );
  });

  it("formatTimeNear with an invalid reference shows the full date", () => {
    expect(formatTimeNear(new Date("2024-03-12T09:03:00Z"), new Date(Number.NaN), "UTC", "ru")).toBe(
      "12.03.2024 09:03",
    );
  });
});
