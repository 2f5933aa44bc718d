// How routing rules are shown: /filter's answer and the routing part of /accepted's lines.

import type { FilterView } from "../i18n/index.js";
import { formatTimeNear } from "../render/index.js";
import type { StoredDestination, StoredMute } from "../store/index.js";
import type { BotServices } from "./context.js";

export function filterViews(destinations: readonly StoredDestination[]): FilterView[] {
  const managed = destinations.some((d) => d.managedByConfig);
  // As routing tries them: a Telegram-managed chat's topics first, its own thread last.
  const ordered = managed
    ? [...destinations]
    : [
        ...destinations.filter((d) => d.threadId !== null),
        ...destinations.filter((d) => d.threadId === null),
      ];
  const views = ordered.map((d) => ({
    topic: d.threadId,
    filter: d.filter,
    ...(d.silent ? { silent: d.silent } : {}),
    ...(d.activeHours.length > 0 ? { activeHours: d.activeHours } : {}),
  }));
  // Topics set from Telegram without a filter of the chat's own thread: that thread gets the rest.
  if (!managed && views.length > 0 && views[views.length - 1]!.topic !== null)
    views.push({ topic: null, filter: "" });
  return views;
}

/** The routing part of a chat's line in /accepted: what it receives, whether it is muted, managed by config. */
export function acceptedRouting(
  s: BotServices,
  destinations: readonly StoredDestination[],
  mutes: readonly StoredMute[],
): string {
  const { timeZone, locale } = s.config.bot;
  const lastEnd = mutes.reduce<number | null>(
    (max, m) => (max === null || m.endsAt > max ? m.endsAt : max),
    null,
  );
  return s.texts.routing.listRouting({
    managedByConfig: destinations.some((d) => d.managedByConfig),
    destinations: filterViews(destinations),
    mutedUntil:
      lastEnd === null ? null : formatTimeNear(new Date(lastEnd), new Date(s.now()), timeZone, locale),
  });
}
