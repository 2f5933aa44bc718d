// The renderer's public face: pure functions from SIEM data to Telegram messages and keyboards.

export {
  type DigestMessage,
  lookupCommandOf,
  renderDigestEdit,
  renderDigestPage,
  STATUS_MARK,
  statusMark,
} from "./digest.js";
export { incidentUrl, renderIncident, SEVERITY_MARK, SIEM_ACTOR, severityMark } from "./incident.js";
export {
  chatRequestKeyboard,
  incidentKeyboard,
  isActionableStatus,
  isOffered,
  offeredActions,
} from "./keyboards.js";
export {
  cleanBlock,
  cleanInline,
  cleanText,
  clipText,
  escapeHtml,
  TELEGRAM_TEXT_LIMIT,
  visibleLength,
} from "./text.js";
export { formatClock, formatTime, formatTimeNear, NO_TIME } from "./time.js";
export type {
  ActionLine,
  IncidentView,
  InlineButton,
  InlineKeyboard,
  RenderedMessage,
  RenderOptions,
} from "./types.js";
