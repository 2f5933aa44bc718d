// Delivery: the outbox sender, Telegram pacing, digests and edits of delivered copies.
export { DEFAULT_DELIVERY_TUNING, Delivery, type DeliveryDeps, type DeliveryTuning } from "./delivery.js";
export { leadingGate, NotLeadingError } from "./leading-gate.js";
export {
  DEFAULT_PACER_LIMITS,
  isGroupChat,
  isPacedMethod,
  Pacer,
  type PacerHealth,
  type PacerLimits,
  type PacerOptions,
  PacerStoppedError,
  pacingTransformer,
} from "./pacer.js";
export { classifyTelegramError, type TelegramFailure } from "./telegram-errors.js";
export { chatRef, incidentView, replyMarkup, storedSummary } from "./view.js";
