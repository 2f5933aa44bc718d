/** A refusal the emulator answers with `status` and `{"message": message}` (400 bad input, 404 unknown id). */
export class EmulatorError extends Error {
  override readonly name = "EmulatorError";
  constructor(
    readonly status: 400 | 404 | 405 | 409,
    message: string,
  ) {
    super(message);
  }
}
