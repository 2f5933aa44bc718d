// `escalation:` in the YAML config file (issue 15): reminder and escalation policies as code.
//
//   escalation:
//     - name: high-at-night                # required, unique; "env" is taken by the env settings
//       match: severity>=high              # optional: matchers (routing grammar); empty = every incident
//       steps:                             # required: one `remind` step and/or one `notify` step
//         - after: 15m                     #   first reminder 15 minutes after the card went out,
//           action: remind                 #   a reply to the card in every chat that has it,
//           every: 30m                     #   then every 30 minutes (optional, default 30m)
//         - after: 1h
//           action: notify                 #   the full card, once, to this chat
//           chat: -1001234567890
//       repeat: 3                          # optional: reminders at most (default 3)
//       active_hours:                      # optional, in BOT_TIME_ZONE: outside these, a due step is
//         - monday-friday 09:00-18:00      #   held until they begin (not skipped)
//
// The env settings (BOT_REMIND_*, BOT_ESCALATE_*) stay the one-policy shortcut. With both, both apply:
// the env settings become one more policy named "env" beside the file's (an incident admitted by several
// policies has one job per policy), so no file policy may be named "env".
//
// Every problem names the policy by its index (from 0) and name, and the field, as routes do.

import { formatDuration, parseDuration } from "./duration.js";
import {
  activeHoursField,
  checkKnownFields,
  matchersField,
  nonZeroWholeNumber,
  parseEntries,
} from "./entry-fields.js";
import { DEFAULT_REMIND_EVERY_MS, DEFAULT_REMIND_MAX, type EscalationPolicyConfig } from "./types.js";
import { isMap, scalar } from "./yaml-values.js";

/** The env settings' policy name (schedule/engine.ts ENV_POLICY). */
const ENV_POLICY_NAME = "env";
const POLICY_KEYS = ["name", "match", "steps", "repeat", "active_hours"] as const;
const STEP_KEYS = ["after", "action", "every", "chat"] as const;
const ACTIONS = ["remind", "notify"] as const;
/** The most reminders a policy may ask for (a repeat storm is the loudest complaint about such tools). */
const MAX_REPEAT = 100;

/** A duration > 0 ("15m", "1h", "20s"); pushes a problem and returns null otherwise. */
function positiveDuration(value: unknown, label: string, problems: string[]): number | null {
  const text = scalar(value);
  const ms = text === null ? null : parseDuration(text);
  if (ms === null || ms <= 0) {
    problems.push(
      `${label}: expected a duration above zero like 15m, 1h or 90s, got ${JSON.stringify(value)}`,
    );
    return null;
  }
  return ms;
}

/** Validates `escalation:`; problems are pushed as "escalation[i] (name): field: what is wrong". */
export function parsePolicies(value: unknown, problems: string[]): EscalationPolicyConfig[] {
  const seen = new Map<string, number>();
  return parseEntries(
    value,
    {
      section: "escalation",
      expectedList: "a list of policies (- name: <name> …), see README “Reminders and escalation”",
      expectedEntry: 'a map with at least "name:" and "steps:"',
    },
    problems,
    (entry) => scalar(entry.name) ?? undefined,
    (entry, label, index): EscalationPolicyConfig | undefined => {
      const name = scalar(entry.name);
      checkKnownFields(entry, POLICY_KEYS, label, problems);

      if (name === null || name === "")
        problems.push(`${label}: name: required (a name for the policy, e.g. high-at-night)`);
      else if (!/^[\w.-]{1,64}$/.test(name))
        problems.push(
          `${label}: name: use letters, digits, "_", "-" or "." (at most 64), got ${JSON.stringify(name)}`,
        );
      else if (name.toLowerCase() === ENV_POLICY_NAME)
        problems.push(
          `${label}: name: "${ENV_POLICY_NAME}" is the policy of the BOT_REMIND_*/BOT_ESCALATE_* settings; choose another`,
        );
      else {
        const earlier = seen.get(name);
        if (earlier !== undefined)
          problems.push(`${label}: name: the same as escalation[${earlier}]; names must be unique`);
        else seen.set(name, index);
      }

      const match = matchersField(entry, "match", label, problems);

      let repeat = DEFAULT_REMIND_MAX;
      if (entry.repeat !== undefined && entry.repeat !== null && entry.repeat !== "") {
        const text = scalar(entry.repeat);
        const n = text !== null && /^\d{1,4}$/.test(text) ? Number(text) : null;
        if (n === null || n < 1 || n > MAX_REPEAT)
          problems.push(
            `${label}: repeat: expected how many reminders at most, a whole number 1…${MAX_REPEAT}, got ${JSON.stringify(entry.repeat)}`,
          );
        else repeat = n;
      }

      const activeHours = activeHoursField(entry, label, problems);

      let remind: EscalationPolicyConfig["remind"] = null;
      let notify: EscalationPolicyConfig["notify"] = null;
      if (!Array.isArray(entry.steps) || entry.steps.length === 0) {
        problems.push(
          `${label}: steps: required, a list of steps like "- after: 15m" with "action: remind" or "action: notify" and "chat: <id>"`,
        );
      } else {
        entry.steps.forEach((step: unknown, s) => {
          const stepLabel = `${label}: steps[${s}]`;
          if (!isMap(step)) {
            problems.push(`${stepLabel}: expected a map with "after:" and "action:"`);
            return;
          }
          checkKnownFields(step, STEP_KEYS, stepLabel, problems);
          let after: number | null = null;
          if (step.after === undefined) problems.push(`${stepLabel}: after: required (a duration like 15m)`);
          else after = positiveDuration(step.after, `${stepLabel}: after`, problems);
          const action = scalar(step.action)?.toLowerCase();
          if (action !== "remind" && action !== "notify") {
            problems.push(
              `${stepLabel}: action: expected ${ACTIONS.join(" or ")}, got ${JSON.stringify(step.action ?? null)}`,
            );
            return;
          }
          if (action === "remind") {
            if (step.chat !== undefined)
              problems.push(
                `${stepLabel}: chat: only a notify step has a chat (a reminder goes to the chats that have the card)`,
              );
            const every =
              step.every === undefined
                ? DEFAULT_REMIND_EVERY_MS
                : positiveDuration(step.every, `${stepLabel}: every`, problems);
            if (remind !== null)
              problems.push(`${stepLabel}: a policy has at most one remind step (repeat sets how many)`);
            else if (after !== null && every !== null) remind = { afterMs: after, everyMs: every };
            return;
          }
          if (step.every !== undefined)
            problems.push(`${stepLabel}: every: only a remind step repeats (a notify step is sent once)`);
          const chatText = scalar(step.chat);
          const chatId = nonZeroWholeNumber(chatText);
          if (step.chat === undefined)
            problems.push(`${stepLabel}: chat: required for notify (the chat id, e.g. -1001234567890)`);
          else if (chatId === null)
            problems.push(
              `${stepLabel}: chat: expected a chat id (a whole number), got ${JSON.stringify(chatText ?? step.chat)}`,
            );
          if (notify !== null)
            problems.push(
              `${stepLabel}: a policy has at most one notify step; use another policy for a second chat`,
            );
          else if (after !== null && chatId !== null) notify = { afterMs: after, chatId };
        });
      }

      return name === null ? undefined : { name, match, remind, notify, repeat, activeHours };
    },
  );
}

/** A policy as one line (the start-up log, /debug). */
export function describePolicy(p: EscalationPolicyConfig): string {
  const steps = [
    p.remind
      ? `remind after ${formatDuration(p.remind.afterMs)} every ${formatDuration(p.remind.everyMs)} ×${p.repeat}`
      : null,
    p.notify ? `notify ${p.notify.chatId} after ${formatDuration(p.notify.afterMs)}` : null,
  ].filter((s): s is string => s !== null);
  return `${p.name}: ${p.match || "every incident"}: ${steps.join(", ")}${p.activeHours.length > 0 ? ` (held outside ${p.activeHours.join("; ")})` : ""}`;
}
