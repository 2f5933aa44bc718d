// Reminders and escalation (design.md §5, issue 15): the leader's scheduler of per-incident jobs.
export {
  BACKFILL_AFTER_MS,
  ENV_POLICY,
  type IncidentRereader,
  REREADS_PER_MINUTE,
  ReminderEngine,
  type ReminderEngineDeps,
  type ReminderMetrics,
  SNOOZE_MS,
  stillUnanswered,
  type TickReport,
} from "./engine.js";
