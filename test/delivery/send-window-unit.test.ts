// The send window on its own: one send per chat at a time, chats independent, a failure frees it.
import { describe, expect, it } from "vitest";
import { SendWindows } from "../../src/delivery/send-window.js";

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe("SendWindows", () => {
  it("lets one send per chat through at a time, and chats through independently", async () => {
    const windows = new SendWindows();
    const order: string[] = [];
    const hung = gate();
    const first = windows.run(1, async () => {
      order.push("1a start");
      await hung.opened;
      order.push("1a end");
    });
    const second = windows.run(1, async () => {
      order.push("1b");
    });
    await windows.run(2, async () => {
      order.push("2");
    });
    // chat 2 went through while chat 1's first send hangs; chat 1's second waits for it
    expect(order).toEqual(["1a start", "2"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(windows.open).toBe(1);
    hung.open();
    await Promise.all([first, second]);
    expect(order).toEqual(["1a start", "2", "1a end", "1b"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(windows.open).toBe(0);
  });

  it("frees the window after a failed send, and hands the failure to its caller", async () => {
    const windows = new SendWindows();
    await expect(
      windows.run(1, async () => {
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(await windows.run(1, async () => "next")).toBe("next");
  });
});
