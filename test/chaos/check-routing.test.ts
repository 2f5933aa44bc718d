// The chaos verdict on routing, from hand-made traces: each chat gets exactly what its filter admitted at
// queue time, silently exactly when a matching mute or BOT_SILENT_BELOW applied — with either outcome
// allowed only when the queue window straddles a change — and the run's own matcher model (rules.ts).
import { describe, expect, it } from "vitest";
import {
  type ChatGroup,
  type IncidentRecord,
  judge,
  type MessageRecord,
  type Observations,
  type RuleChange,
} from "./check.js";
import {
  allHold,
  canonicalText,
  holds,
  type IncidentFacts,
  matchersText,
  type RuleMatcher,
} from "./rules.js";

const CHAT = 42;
const GROUP = "chat";
const facts = (severity: string, name = "Password_brute", category = "Credential access"): IncidentFacts => ({
  severity,
  type: "Undefined",
  category,
  name,
});
const uuid = (n: number) => `0000000${n}-0000-4000-8000-00000000000${n}`;
const incident = (n: number, appearedAt: number, f: IncidentFacts): IncidentRecord => ({
  id: uuid(n),
  key: `INC-${n}`,
  appearedAt,
  facts: f,
});

function message(
  messageId: number,
  at: number,
  ids: IncidentRecord[],
  sound: { silent: boolean; marked?: boolean; chatId?: number },
): MessageRecord {
  const sentIds = ids.map((i) => i.id);
  return {
    chatId: sound.chatId ?? CHAT,
    messageId,
    at,
    instance: 0,
    sentIds,
    currentIds: sentIds,
    digest: ids.length > 1,
    statusLine: ids.length > 1 ? null : "Status: New",
    answerLost: false,
    silent: sound.silent,
    marked: sound.marked ?? sound.silent,
  };
}

const severityAtLeast = (value: string): RuleMatcher[] => [{ field: "severity", op: ">=", value }];

function change(partial: Partial<RuleChange> & Pick<RuleChange, "kind" | "sentAt">): RuleChange {
  return {
    group: GROUP,
    matchers: null,
    durationMs: 0,
    confirmedAt: [partial.sentAt + 100],
    refused: false,
    ...partial,
  };
}

function observations(
  incidents: IncidentRecord[],
  messages: MessageRecord[],
  changes: RuleChange[],
  silentBelow: "low" | "medium" | "high" | null = null,
): Observations {
  const group: ChatGroup = { name: GROUP, chatIds: [CHAT], duty: () => "owed", editableChatIds: [CHAT] };
  return {
    incidents,
    messages,
    instances: [{ index: 0, startedAt: 0, endedAt: null, endedBy: null, exitCode: null, signal: null }],
    groups: [group],
    siemStatus: new Map(incidents.map((i) => [i.id, "New"])),
    expectedStatusLine: (s) => `Status: ${s}`,
    retryAfterBreaches: [],
    routing: { silentBelow, changes },
  };
}

const violations = (obs: Observations) => judge(obs).violations.join("\n");

describe("the run's own matcher model", () => {
  it("compares severities by rank, in any case and in Russian; an unknown severity has no rank", () => {
    expect(holds({ field: "severity", op: ">=", value: "medium" }, facts("High"))).toBe(true);
    expect(holds({ field: "severity", op: ">=", value: "HIGH" }, facts("Medium"))).toBe(false);
    expect(holds({ field: "severity", op: "<", value: "высокая" }, facts("Medium"))).toBe(true);
    expect(holds({ field: "severity", op: "=", value: "Низкая" }, facts("Low"))).toBe(true);
    expect(holds({ field: "severity", op: ">", value: "low" }, facts("Critical"))).toBe(false);
    expect(holds({ field: "severity", op: "<=", value: "high" }, facts("Critical"))).toBe(false);
    expect(holds({ field: "severity", op: "!=", value: "low" }, facts("Critical"))).toBe(true);
    expect(holds({ field: "severity", op: "=~", value: "high|medium" }, facts("Medium"))).toBe(true);
  });

  it("compares text without case, and regular expressions over the whole value", () => {
    const brute = facts("Low", "Password_brute", "Credential access");
    expect(holds({ field: "name", op: "=", value: "password_BRUTE" }, brute)).toBe(true);
    expect(holds({ field: "name", op: "!=", value: "Password_brute" }, brute)).toBe(false);
    expect(holds({ field: "name", op: "=~", value: "pass" }, brute)).toBe(false);
    expect(holds({ field: "name", op: "=~", value: ".*_brute" }, brute)).toBe(true);
    // Alternation is inside the anchors: neither branch may match just a part.
    expect(holds({ field: "name", op: "=~", value: "Network_.*|DNS_.*" }, facts("Low", "xDNS_a"))).toBe(
      false,
    );
    expect(holds({ field: "name", op: "=~", value: "Network_.*|DNS_.*" }, facts("Low", "DNS_x"))).toBe(true);
    expect(holds({ field: "category", op: "!~", value: "cred.*" }, brute)).toBe(false);
    expect(holds({ field: "type", op: "=", value: "undefined" }, brute)).toBe(true);
    expect(holds({ field: "type", op: "=", value: "" }, { ...brute, type: null })).toBe(true);
    expect(allHold([], brute)).toBe(true);
    expect(allHold(severityAtLeast("high"), brute)).toBe(false);
  });

  it("types values with spaces or a leading operator character quoted, the rest bare", () => {
    expect(
      matchersText([
        { field: "category", op: "=", value: "Credential access" },
        { field: "severity", op: ">=", value: "high" },
        { field: "name", op: "=~", value: "(a|b).*" },
        { field: "name", op: "=", value: "=x" },
      ]),
    ).toBe('category="Credential access" severity>=high name=~(a|b).* name="=x"');
    // As the bot shows it back: severities compared by rank in their English word.
    expect(
      canonicalText([
        { field: "severity", op: "<", value: "High" },
        { field: "severity", op: "!=", value: "Низкая" },
        { field: "severity", op: "=~", value: "High" },
      ]),
    ).toBe("severity<high severity!=low severity=~High");
  });
});

describe("chaos verdict on routing", () => {
  const low = incident(1, 2_000, facts("Low"));
  const high = incident(2, 2_100, facts("High"));
  const filterHigh = change({ kind: "filter", sentAt: 900, matchers: severityAtLeast("high") });

  it("passes a chat that got exactly what its filter admitted, with sound", () => {
    const verdict = judge(
      observations([low, high], [message(1, 2_500, [high], { silent: false })], [filterHigh]),
    );
    expect(verdict.violations).toEqual([]);
    expect(verdict.routing).toMatchObject({
      filteredOut: 1,
      filterStraddled: 0,
      loudMessages: 1,
      confirmed: 1,
    });
  });

  it("reports a filtered-out incident that was delivered, naming the filter", () => {
    const text = violations(
      observations(
        [low, high],
        [message(1, 2_500, [high], { silent: false }), message(2, 2_600, [low], { silent: false })],
        [filterHigh],
      ),
    );
    expect(text).toContain("got incidents its filter did not admit at queue time: INC-1");
    expect(text).toContain("filter severity>=high");
  });

  it("reports an admitted incident that never arrived", () => {
    const text = violations(observations([low, high], [], [filterHigh]));
    expect(text).toContain("1 owed incidents never arrived: INC-2 (admitted by filter severity>=high)");
    expect(text).not.toContain("INC-1");
  });

  it("allows either outcome only when the queue window straddles the change, and /filter off restores everything", () => {
    // Appeared after the command was sent, before its reply: the old rule or the new one.
    const straddling = incident(3, 950, facts("Low"));
    const both = judge(
      observations([straddling], [message(1, 1_200, [straddling], { silent: false })], [filterHigh]),
    );
    expect(both.violations).toEqual([]);
    expect(both.routing?.filterStraddled).toBe(1);
    expect(judge(observations([straddling], [], [filterHigh])).violations).toEqual([]);

    // Appeared before the command and delivered after its reply: still a straddle (queued at some moment between).
    const early = incident(4, 500, facts("Low"));
    expect(judge(observations([early], [], [filterHigh])).violations).toEqual([]);
    expect(
      judge(observations([early], [message(1, 1_500, [early], { silent: false })], [filterHigh])).violations,
    ).toEqual([]);

    // Queued after `/filter off` was confirmed: owed again.
    const off = change({ kind: "filter", sentAt: 3_000, matchers: null });
    const later = incident(5, 3_500, facts("Low"));
    expect(violations(observations([low, later], [], [filterHigh, off]))).toContain("never arrived: INC-5");
  });

  it("narrows the queue window to when the service recorded queueing the incident", () => {
    // Appeared before the filter was sent, first sent after its reply: a straddle on its own...
    const early = incident(4, 500, facts("Low"));
    expect(judge(observations([early], [], [filterHigh])).violations).toEqual([]);
    // ...but queued before the filter was sent: owed.
    const queuedEarly = { ...observations([early], [], [filterHigh]), queuedAt: new Map([[early.id, 600]]) };
    expect(violations(queuedEarly)).toContain("never arrived: INC-4");
    // Muted when it was queued, sent after the mute ended: it must still go silently.
    const muted = incident(5, 2_000, facts("Low"));
    const mute = change({ kind: "mute", sentAt: 1_000, durationMs: 30_000 });
    const late = observations([muted], [message(1, 40_000, [muted], { silent: false })], [mute]);
    expect(judge(late).violations).toEqual([]);
    expect(violations({ ...late, queuedAt: new Map([[muted.id, 2_500]]) })).toContain(
      "(INC-5) went with sound, but INC-5: the mute /mute 30s",
    );
  });

  it("treats a command the bot refused as never applied, and one never answered as maybe applied", () => {
    const refused = { ...filterHigh, confirmedAt: [], refused: true };
    expect(violations(observations([low], [], [refused]))).toContain("never arrived: INC-1");
    const unanswered = { ...filterHigh, confirmedAt: [] };
    expect(judge(observations([low], [], [unanswered])).violations).toEqual([]);
    expect(
      judge(observations([low], [message(1, 2_500, [low], { silent: false })], [unanswered])).violations,
    ).toEqual([]);
  });

  const mute = change({ kind: "mute", sentAt: 1_000, durationMs: 30_000 });

  it("reports a muted incident delivered with sound, and passes it delivered silently", () => {
    expect(
      judge(observations([low], [message(1, 2_500, [low], { silent: true })], [mute])).violations,
    ).toEqual([]);
    const text = violations(observations([low], [message(1, 2_500, [low], { silent: false })], [mute]));
    expect(text).toContain(
      "wrong sound: message 1 in chat 42 (INC-1) went with sound, but INC-1: the mute /mute 30s",
    );
  });

  it("reports an incident delivered silently though no mute or silent rule applied", () => {
    const expired = incident(3, 40_000, facts("Low"));
    const text = violations(
      observations([expired], [message(1, 40_500, [expired], { silent: true })], [mute]),
    );
    expect(text).toContain(
      "went silently, but INC-3 (queued between +40000 and +40500 ms): no mute or silent rule applied",
    );
  });

  it("applies a mute's matchers: what they do not match keeps its sound", () => {
    const highOnly = { ...mute, matchers: severityAtLeast("high") };
    expect(
      judge(
        observations(
          [low, high],
          [message(1, 2_500, [low], { silent: false }), message(2, 2_600, [high], { silent: true })],
          [highOnly],
        ),
      ).violations,
    ).toEqual([]);
    expect(
      violations(observations([low], [message(1, 2_500, [low], { silent: true })], [highOnly])),
    ).toContain("wrong sound");
  });

  it("allows either sound around a mute's start and end, and after an /unmute only sound", () => {
    const atStart = incident(3, 1_050, facts("Low"));
    const atEnd = incident(4, 30_900, facts("Low"));
    for (const silent of [true, false]) {
      const verdict = judge(
        observations(
          [atStart, atEnd],
          [message(1, 1_150, [atStart], { silent }), message(2, 31_200, [atEnd], { silent })],
          [mute],
        ),
      );
      expect(verdict.violations).toEqual([]);
      expect(verdict.routing?.soundStraddled).toBe(2);
    }
    const unmute = change({ kind: "unmute", sentAt: 5_000 });
    const after = incident(5, 6_000, facts("Low"));
    expect(
      violations(observations([after], [message(1, 6_500, [after], { silent: true })], [mute, unmute])),
    ).toContain("no mute or silent rule applied");
    expect(
      judge(observations([after], [message(1, 6_500, [after], { silent: false })], [mute, unmute]))
        .violations,
    ).toEqual([]);
  });

  it("makes what is below BOT_SILENT_BELOW silent everywhere", () => {
    const obs = observations(
      [low, high],
      [message(1, 2_500, [low], { silent: false }), message(2, 2_600, [high], { silent: false })],
      [],
      "medium",
    );
    const text = violations(obs);
    expect(text).toContain("(INC-1) went with sound, but INC-1: BOT_SILENT_BELOW=medium");
    expect(text).not.toContain("INC-2");
  });

  it("lets a digest go silently only when everything in it is silent", () => {
    const highOnly = { ...mute, matchers: severityAtLeast("high") };
    const alsoHigh = incident(3, 2_200, facts("High"));
    // One loud incident in it: the digest must ring.
    expect(
      violations(observations([low, high], [message(1, 2_500, [low, high], { silent: true })], [highOnly])),
    ).toContain("message 1 in chat 42 (INC-1+INC-2) went silently, but INC-1");
    expect(
      judge(observations([low, high], [message(1, 2_500, [low, high], { silent: false })], [highOnly]))
        .violations,
    ).toEqual([]);
    // Everything in it muted: it must not.
    expect(
      violations(
        observations([high, alsoHigh], [message(1, 2_500, [high, alsoHigh], { silent: false })], [highOnly]),
      ),
    ).toContain("(INC-2+INC-3) went with sound, but INC-2: the mute");
  });

  it("reports a 🔕 mark that disagrees with how the message went", () => {
    const text = violations(
      observations([low], [message(1, 2_500, [low], { silent: true, marked: false })], [mute]),
    );
    expect(text).toContain("message 1 in chat 42 went silently without the 🔕 mark");
  });

  it("ignores a message without incidents, like the line a chat gets when its mute is over", () => {
    const summary: MessageRecord = {
      ...message(9, 31_100, [], { silent: false }),
      sentIds: [],
      currentIds: [],
      digest: false,
      statusLine: null,
      marked: false,
    };
    const verdict = judge(observations([low], [message(1, 2_500, [low], { silent: true }), summary], [mute]));
    expect(verdict.violations).toEqual([]);
    expect(verdict.singles).toBe(1);
    expect(verdict.routing).toMatchObject({ silentMessages: 1, loudMessages: 0 });
  });
});
