// Every figure the service exports on /metrics (Prometheus text) and shows in /debug.
// Parts of the service receive a Metrics and only increment/observe; they never read each other's state.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export class Metrics {
  readonly registry = new Registry();

  readonly incidentsSeen = new Counter({
    name: "mpsiem_incidents_seen_total",
    help: "Incidents found in the SIEM for the first time",
    registers: [this.registry],
  });
  readonly incidentChanges = new Counter({
    name: "mpsiem_incident_changes_total",
    help: "Changes to already delivered incidents found in the SIEM (status, events)",
    registers: [this.registry],
  });
  readonly polls = new Counter({
    name: "mpsiem_polls_total",
    help: "SIEM polls by result",
    labelNames: ["kind", "result"] as const, // kind: creation|lastModification; result: ok|error
    registers: [this.registry],
  });
  readonly pollDuration = new Histogram({
    name: "mpsiem_poll_duration_seconds",
    help: "Duration of one SIEM poll (all pages)",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly siemErrors = new Counter({
    name: "mpsiem_siem_errors_total",
    help: "SIEM call failures by kind (network, timeout, server, malformed, credentials, tls, ...)",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: "mpsiem_deliveries_total",
    help: "Telegram deliveries by result (sent, digest, plain_fallback, retry, cancelled) and chat kind",
    labelNames: ["result", "chat_kind"] as const,
    registers: [this.registry],
  });
  readonly edits = new Counter({
    name: "mpsiem_message_edits_total",
    help: "Edits of delivered incident messages by result (edited, not_modified, gone, retry)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly outboxDepth = new Gauge({
    name: "mpsiem_outbox_depth",
    help: "Deliveries waiting in the outbox, by chat kind",
    labelNames: ["chat_kind"] as const,
    registers: [this.registry],
  });
  readonly telegramErrors = new Counter({
    name: "mpsiem_telegram_errors_total",
    help: "Telegram API errors by HTTP code (0 = network)",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly rateLimitWaits = new Counter({
    name: "mpsiem_telegram_retry_after_seconds_total",
    help: "Seconds spent honouring Telegram retry_after (429)",
    registers: [this.registry],
  });
  readonly rateLimitHits = new Counter({
    name: "mpsiem_telegram_429_total",
    help: "429 Too Many Requests answers from Telegram",
    registers: [this.registry],
  });
  readonly notificationLatency = new Histogram({
    name: "mpsiem_notification_latency_seconds",
    help: "From the incident's created time in the SIEM to the message sent",
    buckets: [0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });
  readonly actions = new Counter({
    name: "mpsiem_actions_total",
    help: "Button presses and admin commands by action and result",
    labelNames: ["action", "result"] as const,
    registers: [this.registry],
  });

  // ---- intake and routing: what matching costs against the intake it is part of ----
  readonly intakeSeconds = new Counter({
    name: "mpsiem_telegram_intake_seconds_total",
    help: "Seconds spent taking listed incidents in: finding the new ones, reading a few, routing and the ingest transaction (not the SIEM list calls)",
    registers: [this.registry],
  });
  readonly routingSeconds = new Counter({
    name: "mpsiem_telegram_routing_seconds_total",
    help: "Seconds of intake spent on routing decisions (loading changed rules and deciding each incident's chats, topics and sound)",
    registers: [this.registry],
  });
  readonly routingDecisions = new Counter({
    name: "mpsiem_telegram_routing_decisions_total",
    help: "Routing decisions made: one per (incident, chat receiving now)",
    registers: [this.registry],
  });

  // ---- leadership (several instances on PostgreSQL; on SQLite the one process always leads) ----
  readonly leader = new Gauge({
    name: "mpsiem_telegram_leader",
    help: "1 while this instance leads (polls the SIEM and Telegram, sends), 0 while it stands by",
    registers: [this.registry],
  });
  readonly leaseRenewals = new Counter({
    name: "mpsiem_telegram_lease_renewals_total",
    help: "Successful renewals of the leader lease by this instance",
    registers: [this.registry],
  });
  readonly leaseFailures = new Counter({
    name: "mpsiem_telegram_lease_failures_total",
    help: "Failed lease steps by step (renew, acquire, connection)",
    labelNames: ["step"] as const,
    registers: [this.registry],
  });
  readonly takeovers = new Counter({
    name: "mpsiem_telegram_takeovers_total",
    help: "Times this instance became the leader (its first start included)",
    registers: [this.registry],
  });
  readonly leadershipLosses = new Counter({
    name: "mpsiem_telegram_leadership_losses_total",
    help: "Times this instance stopped leading, by reason (connection, expired, taken, stopped)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly updates = new Counter({
    name: "mpsiem_telegram_updates_total",
    help: "Telegram updates by how they came (polling, webhook, replay) and what became of them (handled, duplicate)",
    labelNames: ["via", "result"] as const,
    registers: [this.registry],
  });
  readonly reminderChecks = new Counter({
    name: "mpsiem_telegram_reminder_checks_total",
    help: "Fire-time checks of reminder jobs by source: siem (a re-read, three SIEM requests) or store (beyond the budget)",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly reminderSteps = new Counter({
    name: "mpsiem_telegram_reminder_steps_total",
    help: "Reminder job steps by kind: remind, escalate, ended (no longer New or taken)",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly reminderLateness = new Histogram({
    name: "mpsiem_telegram_reminder_lateness_seconds",
    help: "How late a reminder job was looked at: fire time minus due time",
    // Fine around a few seconds, where the poll interval (the lateness target) usually lies.
    buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60, 300],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    // prom-client samples the event loop delay every 10 ms by default: 100 wake-ups a second, a large
    // share of an idle service's CPU. Every 100 ms still shows any lag that matters here.
    if (opts.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Current value of a counter or gauge summed over labels (for /debug and tests). */
  async total(metric: Counter | Gauge): Promise<number> {
    const data = await metric.get();
    return data.values.reduce((sum, v) => sum + v.value, 0);
  }
}
