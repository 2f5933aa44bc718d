import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  errorMessageOf,
  parseEventCount,
  parseEvents,
  parseIncidentDetails,
  parseIncidentPage,
  parseJson,
  parseSystemInfo,
  parseTokenResponse,
  UNKNOWN_CREATED,
} from "../../src/siem/parse.js";

const fullItem = {
  id: "cc51f4c0-4052-4d8b-8726-fb0912ab34cd",
  key: "INC-75",
  name: "Web_Bulk_Failed_URL_Access",
  category: "Undefined",
  type: "Undefined",
  status: "New",
  severity: "High",
  created: "2024-03-12T06:12:00.4571234Z",
  assigned: null,
  isConfirmed: false,
};

describe("parseIncidentPage", () => {
  it("reads the reference list answer", () => {
    const page = parseIncidentPage({ incidents: [fullItem], totalItems: 1 });
    expect(page).toEqual({
      incidents: [
        {
          id: fullItem.id,
          key: "INC-75",
          name: "Web_Bulk_Failed_URL_Access",
          category: "Undefined",
          type: "Undefined",
          status: "New",
          severity: "High",
          created: new Date("2024-03-12T06:12:00.457Z"),
          isConfirmed: false,
        },
      ],
      itemCount: 1,
      totalItems: 1,
      notes: [],
    });
  });

  it("ignores unknown fields and defaults missing optional ones", () => {
    const page = parseIncidentPage({
      incidents: [{ id: "a1", created: "2024-03-12T06:12:00Z", extra: { nested: true }, severity: null }],
    });
    expect(page?.incidents).toEqual([
      {
        id: "a1",
        key: "",
        name: "",
        category: "",
        type: "",
        status: "",
        severity: "",
        created: new Date("2024-03-12T06:12:00Z"),
        isConfirmed: false,
      },
    ]);
    expect(page?.totalItems).toBeNull();
    expect(page?.incidents[0]).not.toHaveProperty("extra");
  });

  it("keeps unknown status and severity values verbatim", () => {
    const page = parseIncidentPage({
      incidents: [{ ...fullItem, status: "Reopened", severity: "Critical" }],
    });
    expect(page?.incidents[0]?.status).toBe("Reopened");
    expect(page?.incidents[0]?.severity).toBe("Critical");
  });

  it("skips items without a usable id but counts them for paging, and notes why", () => {
    const page = parseIncidentPage({
      incidents: [
        { ...fullItem, id: undefined },
        { ...fullItem, id: "   " },
        "not an object",
        null,
        fullItem,
      ],
      totalItems: 5,
    });
    expect(page?.incidents.map((i) => i.id)).toEqual([fullItem.id]);
    expect(page?.itemCount).toBe(5);
    expect(page?.notes.map((n) => n.index)).toEqual([0, 1, 2, 3]);
  });

  it("keeps an incident whose created time is unreadable, at the epoch, with a note", () => {
    const page = parseIncidentPage({ incidents: [{ ...fullItem, created: "yesterday" }] });
    expect(page?.incidents[0]?.created).toEqual(UNKNOWN_CREATED);
    expect(page?.notes).toHaveLength(1);
  });

  it("reads a numeric id and a string isConfirmed", () => {
    const page = parseIncidentPage({ incidents: [{ ...fullItem, id: 42, isConfirmed: "true" }] });
    expect(page?.incidents[0]?.id).toBe("42");
    expect(page?.incidents[0]?.isConfirmed).toBe(true);
  });

  it.each([
    null,
    [],
    "text",
    5,
    {},
    { incidents: "x" },
    { message: "Authorization has been denied for this request." },
  ])("returns null for a body without an incidents array: %j", (body) => {
    expect(parseIncidentPage(body)).toBeNull();
  });

  it("never throws on arbitrary items", () => {
    fc.assert(
      fc.property(fc.array(fc.anything()), fc.anything(), (incidents, totalItems) => {
        const page = parseIncidentPage({ incidents, totalItems });
        expect(page?.itemCount).toBe(incidents.length);
      }),
    );
  });
});

describe("parseIncidentDetails", () => {
  const details = {
    ...fullItem,
    description: "Множество неудачных попыток",
    detected: "2024-03-12T06:11:30.0000000Z",
    modified: "2024-03-12T06:12:00.4571234Z",
    source: "Correlation",
    targets: { assets: [] },
  };

  it("reads the reference details answer", () => {
    expect(parseIncidentDetails(details, "other")).toEqual({
      id: fullItem.id,
      key: "INC-75",
      name: "Web_Bulk_Failed_URL_Access",
      category: "Undefined",
      type: "Undefined",
      status: "New",
      severity: "High",
      created: new Date("2024-03-12T06:12:00.457Z"),
      isConfirmed: false,
      description: "Множество неудачных попыток",
      detected: new Date("2024-03-12T06:11:30Z"),
      modified: new Date("2024-03-12T06:12:00.457Z"),
      correlationRules: [],
      assignee: null,
      targets: [],
      attackers: [],
    });
  });

  it("reads the assignee ({id, firstName, lastName} or a bare id), targets and attackers (names, each once, first ten)", () => {
    const parsed = parseIncidentDetails(
      {
        ...details,
        assigned: { id: "u-1", firstName: "Иван", lastName: "Иванов" },
        targets: {
          assets: [{ id: "a1", name: "web-01" }, { id: "a2", name: "web-01" }, { id: "a3" }],
          addresses: ["10.0.0.5", { name: "10.0.0.6" }],
          others: [null, 7, { name: "" }],
        },
        attackers: { others: Array.from({ length: 15 }, (_, i) => `198.51.100.${i}`) },
      },
      "x",
    );
    expect(parsed?.assignee).toEqual({ id: "u-1", name: "Иван Иванов" });
    expect(parsed?.targets).toEqual(["web-01", "a3", "10.0.0.5", "10.0.0.6", "7"]);
    expect(parsed?.attackers).toHaveLength(10);
    expect(parseIncidentDetails({ ...details, assigned: "u-2" }, "x")?.assignee).toEqual({
      id: "u-2",
      name: "",
    });
    expect(parseIncidentDetails({ ...details, assigned: { firstName: "x" } }, "x")?.assignee).toBeNull();
  });

  it("reads the rule names of both shapes into one list: 26.x correlationRuleNames, 27.x correlationRules", () => {
    expect(
      parseIncidentDetails({ ...details, correlationRuleNames: ["Password_brute"] }, "x")?.correlationRules,
    ).toEqual(["Password_brute"]);
    expect(
      parseIncidentDetails(
        {
          ...details,
          correlationRules: [{ correlationName: "Web_Bulk" }, { correlationName: "Port_scan", id: 3 }],
        },
        "x",
      )?.correlationRules,
    ).toEqual(["Web_Bulk", "Port_scan"]);
    // Both at once (a version in between), duplicates and junk: each name once, junk dropped.
    expect(
      parseIncidentDetails(
        {
          ...details,
          correlationRuleNames: ["A", "", null, 7],
          correlationRules: [{ correlationName: "A" }, { correlationName: "B" }, {}, null, "C"],
        },
        "x",
      )?.correlationRules,
    ).toEqual(["A", "7", "B", "C"]);
    expect(parseIncidentDetails({ ...details, correlationRules: null }, "x")?.correlationRules).toEqual([]);
    expect(parseIncidentDetails({ ...details, correlationRuleNames: "A" }, "x")?.correlationRules).toEqual(
      [],
    );
  });

  it("reads JSON null severity, category and type (real Core sends them) as empty strings", () => {
    const parsed = parseIncidentDetails({ ...details, severity: null, category: null, type: null }, "x");
    expect(parsed).toMatchObject({ severity: "", category: "", type: "", key: "INC-75" });
    const page = parseIncidentPage({
      incidents: [{ ...fullItem, severity: null, category: null, type: null }],
    });
    expect(page?.incidents[0]).toMatchObject({ severity: "", category: "", type: "", id: fullItem.id });
    expect(page?.notes).toEqual([]);
  });

  it("defaults missing fields and takes the id from the request when absent", () => {
    expect(parseIncidentDetails({}, "requested-id")).toEqual({
      id: "requested-id",
      key: "",
      name: "",
      category: "",
      type: "",
      status: "",
      severity: "",
      created: UNKNOWN_CREATED,
      isConfirmed: false,
      description: "",
      detected: null,
      modified: null,
      correlationRules: [],
      assignee: null,
      targets: [],
      attackers: [],
    });
  });

  it.each([null, "text", 3, []])("returns null for a body that is not an object: %j", (body) => {
    expect(parseIncidentDetails(body, "x")).toBeNull();
  });
});

describe("parseEvents and parseEventCount", () => {
  it("reads a bare array and skips non-objects", () => {
    const events = parseEvents([
      { id: "e1", date: "2024-03-12T06:12:07.0000000Z", description: "Ошибка доступа", type: "ignored" },
      "junk",
      { description: "no id, no date" },
    ]);
    expect(events).toEqual([
      { id: "e1", date: new Date("2024-03-12T06:12:07Z"), description: "Ошибка доступа" },
      { id: "", date: null, description: "no id, no date" },
    ]);
  });

  it("also reads the event-store shape {events: [...]}", () => {
    expect(parseEvents({ events: [{ id: "e1" }], totalCount: 1 })).toEqual([
      { id: "e1", date: null, description: "" },
    ]);
  });

  it.each([null, {}, "x", 1])("returns null when there is no array: %j", (body) => {
    expect(parseEvents(body)).toBeNull();
  });

  it("reads counts and rejects nonsense", () => {
    expect(parseEventCount({ count: 202 })).toBe(202);
    expect(parseEventCount({ count: "7" })).toBe(7);
    expect(parseEventCount({ count: -1 })).toBeNull();
    expect(parseEventCount({ count: "many" })).toBeNull();
    expect(parseEventCount({})).toBeNull();
    expect(parseEventCount([])).toBeNull();
  });
});

describe("parseSystemInfo and parseTokenResponse", () => {
  it("reads productVersion, defaulting to empty", () => {
    expect(parseSystemInfo({ productVersion: "26.1.7351", other: 1 })).toEqual({
      productVersion: "26.1.7351",
    });
    expect(parseSystemInfo({})).toEqual({ productVersion: "" });
    expect(parseSystemInfo("x")).toBeNull();
  });

  it("reads a token answer and tolerates missing optional fields", () => {
    expect(
      parseTokenResponse({
        access_token: "abc",
        expires_in: 86400,
        token_type: "Bearer",
        refresh_token: "r1",
      }),
    ).toEqual({ accessToken: "abc", expiresInSec: 86400, refreshToken: "r1" });
    expect(parseTokenResponse({ access_token: "abc", expires_in: "60" })).toEqual({
      accessToken: "abc",
      expiresInSec: 60,
      refreshToken: null,
    });
    expect(parseTokenResponse({ access_token: "abc", expires_in: -5 })?.expiresInSec).toBeNull();
    expect(parseTokenResponse({ access_token: "" })).toBeNull();
    expect(parseTokenResponse({ error: "invalid_grant" })).toBeNull();
  });
});

describe("parseJson and errorMessageOf", () => {
  it("reports JSON that does not parse instead of throwing", () => {
    expect(parseJson("{")).toEqual({ ok: false });
    expect(parseJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });

  it("finds the human message in the error shapes the SIEM uses", () => {
    expect(errorMessageOf('{"message":"Authorization has been denied for this request."}')).toBe(
      "Authorization has been denied for this request.",
    );
    expect(
      errorMessageOf('{"error":"invalid_grant","error_description":"invalid_username_or_password"}'),
    ).toBe("invalid_grant: invalid_username_or_password");
    expect(errorMessageOf('{"errors":[{"error":{"message":"bad filter"}}]}')).toBe("bad filter");
    expect(errorMessageOf("<html>\n  500   Internal\n</html>")).toBe("<html> 500 Internal </html>");
    expect(errorMessageOf("x".repeat(500), 10)).toBe(`${"x".repeat(10)}…`);
    expect(errorMessageOf("")).toBe("");
  });
});
