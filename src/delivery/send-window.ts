// Between a new message's request to Telegram and the moment its message id is recorded, a crash
// would send the message again after the restart. Each chat lets one new message at a time through
// that window: a crash repeats at most one message per chat, and a chat whose call is slow or hangs
// holds back no other chat.
export class SendWindows {
  private readonly tails = new Map<number, Promise<unknown>>();

  /** Runs `sendAndRecord` once no other send to this chat is between its request and its recorded id. */
  run<T>(chatId: number, sendAndRecord: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(chatId) ?? Promise.resolve();
    const run = previous.then(sendAndRecord, sendAndRecord);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(chatId, tail);
    void tail.then(() => {
      if (this.tails.get(chatId) === tail) this.tails.delete(chatId);
    });
    return run;
  }

  /** How many chats have a send in their window now. */
  get open(): number {
    return this.tails.size;
  }
}
