// What the emulated incidents say: correlation-rule-like names and Russian descriptions in the
// style of the reference screenshots (mpsiem-api.md §3.2, §5.1, §8.3–8.4), plus a "hostile"
// incident full of characters that break naive HTML/Markdown rendering.
// Everything is derived from a seeded Random, so a seed always gives the same texts.

import { mix32, Random } from "./random.js";

export type SeverityName = "High" | "Medium" | "Low";

/** The variable parts of one incident's story, shared by its description and its events. */
export interface StoryParams {
  host: string;
  hostIp: string;
  attackerIp: string;
  user: string;
  otherUser: string;
  port: number;
  domain: string;
  file: string;
}

interface Scenario {
  name: string;
  /** Invented taxonomy (the real category set is unknown, §10 #6). */
  category: string;
  /** Weights for High, Medium, Low. */
  severityWeights: readonly [number, number, number];
  description(p: StoryParams): string;
  /** Event `index` (0 = newest); `r` is private to this event. */
  event(p: StoryParams, r: Random, index: number): string;
}

const WEB_PAGES = [
  "login.html",
  "address.php?gid=651",
  "admin/config.php",
  "wp-login.php",
  ".env",
  "backup.zip",
  "phpmyadmin/index.php",
  "cgi-bin/test.cgi",
  "api/v1/users?id=1%27",
  "robots.txt",
  "server-status",
  ".git/config",
];
const USERS = [
  "ivanov.i",
  "petrova.a",
  "sidorov.p",
  "admin",
  "svc_backup",
  "kuznetsova.m",
  "operator",
  "root",
];
const DOMAINS = ["cdn-update.example.net", "telemetry-sync.example.org", "a1b2c3.example.com"];
const MALWARE = ["Trojan.Win32.Agent", "HackTool.Mimikatz", "Backdoor.Cobalt", "Ransom.LockBit"];
const FILES = [
  "C:\\Users\\Public\\update.exe",
  "C:\\Windows\\Temp\\svch0st.exe",
  "/tmp/.x/kworkerd",
  "invoice_2024.docm",
];

const SCENARIOS: readonly Scenario[] = [
  {
    name: "Web_Bulk_Failed_URL_Access",
    category: "Attack",
    severityWeights: [5, 3, 1],
    description: (p) =>
      `Множество неудачных попыток обратиться к несуществующим страницам с адреса ${p.attackerIp} обнаружено на узле ${p.host}`,
    event: (p, r, index) =>
      index === 0
        ? `Множество неудачных попыток обратиться к несуществующим страницам с адреса ${p.attackerIp} обнаружено на узле ${p.host}`
        : `Ошибка доступа к ресурсу ${r.pick(WEB_PAGES)} на узле ${p.host}. Причина: ${r.weighted(["Not Found", "Forbidden"], [9, 1])}`,
  },
  {
    name: "Critical_host_threat_detection",
    category: "Attack",
    severityWeights: [1, 0, 0],
    description: (p) => `Обнаружена атака на критически важный узел ${p.hostIp}`,
    event: (p, r, index) =>
      index % 3 === 0
        ? `Обнаружена атака на критически важный узел ${p.hostIp}`
        : `Получен дубль SYN пакета от ${p.attackerIp}:${r.int(1024, 65535)} к ${p.hostIp}:${p.port} на узле ${p.hostIp}`,
  },
  {
    name: "Password_brute",
    category: "Credential access",
    severityWeights: [3, 5, 1],
    description: (p) =>
      `Множество неудачных попыток входа под учетной записью ${p.user} на узел ${p.host} с адреса ${p.attackerIp}`,
    event: (p, r, index) =>
      index === 0
        ? `Подбор пароля к учетной записи ${p.user} на узле ${p.host} с адреса ${p.attackerIp}`
        : `Неудачная попытка входа пользователя ${p.user} на узел ${p.host} с адреса ${p.attackerIp}. Причина: ${r.weighted(["неверный пароль", "учетная запись заблокирована"], [8, 1])}`,
  },
  {
    name: "Network_port_scan",
    category: "Reconnaissance",
    severityWeights: [0, 2, 5],
    description: (p) => `Сканирование сетевых портов узла ${p.hostIp} с адреса ${p.attackerIp}`,
    event: (p, r) =>
      `Попытка подключения с ${p.attackerIp} к ${p.hostIp}:${r.int(1, 10000)} отклонена межсетевым экраном`,
  },
  {
    name: "Suspicious_PowerShell_execution",
    category: "Execution",
    severityWeights: [4, 3, 0],
    description: (p) =>
      `Запуск PowerShell с закодированной командой на узле ${p.host} пользователем ${p.user}`,
    event: (p, r, index) =>
      index % 2 === 0
        ? `Создан процесс powershell.exe -NoP -W Hidden -enc ${r.uuid().replace(/-/g, "").slice(0, 24)} на узле ${p.host} пользователем ${p.user}`
        : `Процесс powershell.exe (PID ${r.int(1000, 65000)}) установил соединение с ${p.attackerIp}:${p.port} на узле ${p.host}`,
  },
  {
    name: "Malware_file_detected",
    category: "Malware",
    severityWeights: [6, 2, 0],
    description: (p) => `Антивирус обнаружил вредоносный файл ${p.file} на узле ${p.host}`,
    event: (p, r) =>
      `Обнаружен вредоносный объект ${r.pick(MALWARE)} в файле ${p.file} на узле ${p.host}. Действие: ${r.weighted(["помещен в карантин", "удален", "пропущен"], [5, 3, 1])}`,
  },
  {
    name: "Account_created_outside_business_hours",
    category: "Persistence",
    severityWeights: [0, 2, 4],
    description: (p) =>
      `Учетная запись ${p.otherUser} создана пользователем ${p.user} вне рабочего времени на узле ${p.host}`,
    event: (p, _r, index) =>
      index % 2 === 0
        ? `Создана учетная запись ${p.otherUser} пользователем ${p.user} на узле ${p.host}`
        : `Учетная запись ${p.otherUser} добавлена в группу «Администраторы домена» пользователем ${p.user}`,
  },
  {
    name: "DNS_tunneling_suspected",
    category: "Exfiltration",
    severityWeights: [2, 4, 1],
    description: (p) =>
      `Подозрение на DNS-туннелирование с узла ${p.host}: аномально длинные запросы к домену ${p.domain}`,
    event: (p, r) => `DNS-запрос ${r.uuid().replace(/-/g, "")}.${p.domain} с узла ${p.hostIp}`,
  },
];

const SEVERITY_ORDER: readonly SeverityName[] = ["High", "Medium", "Low"];

/** The generated part of an incident: what a seed decides. */
export interface GeneratedStory {
  scenario: number;
  name: string;
  description: string;
  category: string;
  type: string;
  severity: SeverityName;
  params: StoryParams;
  eventsCount: number;
  /** Seeds each event separately, so any slice of events can be produced without the rest. */
  eventSeed: number;
  /** How long before `created` the correlation fired (for `detected` and event dates). */
  detectedLeadMs: number;
}

export function generateStory(r: Random): GeneratedStory {
  // Always draw the same number of values, whatever is overridden later, so one incident's
  // overrides never shift the next incident's content.
  const scenarioIndex = r.int(0, SCENARIOS.length - 1);
  const scenario = SCENARIOS[scenarioIndex] as Scenario;
  const params: StoryParams = {
    host: `vm-${String(r.int(1, 120)).padStart(3, "0")}`,
    hostIp: `10.${r.int(1, 20)}.${r.int(0, 255)}.${r.int(1, 254)}`,
    attackerIp: `${r.pick(["198.51.100", "203.0.113", "192.0.2"])}.${r.int(1, 254)}`,
    user: r.pick(USERS),
    otherUser: `user${r.int(100, 999)}`,
    port: r.pick([22, 80, 443, 445, 3389, 4001, 8080]),
    domain: r.pick(DOMAINS),
    file: r.pick(FILES),
  };
  const severity = r.weighted(SEVERITY_ORDER, scenario.severityWeights);
  const eventsCount = drawEventsCount(r);
  const eventSeed = r.nextUint32();
  const detectedLeadMs = r.int(5, 600) * 1000;
  return {
    scenario: scenarioIndex,
    name: scenario.name,
    description: scenario.description(params),
    category: scenario.category,
    type: "Undefined",
    severity,
    params,
    eventsCount,
    eventSeed,
    detectedLeadMs,
  };
}

/** 0..300 events: mostly a handful, sometimes hundreds (the reference shows 202, §5.1). */
function drawEventsCount(r: Random): number {
  const bucket = r.weighted([0, 1, 2, 3, 4], [8, 40, 30, 15, 7]);
  switch (bucket) {
    case 0:
      return 0;
    case 1:
      return r.int(1, 5);
    case 2:
      return r.int(6, 30);
    case 3:
      return r.int(31, 150);
    default:
      return r.int(151, 300);
  }
}

export interface GeneratedEvent {
  id: string;
  dateMs: number;
  description: string;
}

/**
 * Event `index` of `count` (0 = newest, as the SIEM lists them), dated between `detectedMs` and
 * `createdMs`, whole seconds like the reference (§8.4).
 */
export function generateEvent(
  story: Pick<GeneratedStory, "scenario" | "params" | "eventSeed">,
  index: number,
  count: number,
  createdMs: number,
  detectedMs: number,
): GeneratedEvent {
  const r = new Random(mix32(story.eventSeed, index));
  const scenario = SCENARIOS[story.scenario] ?? (SCENARIOS[0] as Scenario);
  const span = Math.max(0, createdMs - detectedMs);
  const offset = count > 1 ? Math.round((span * index) / (count - 1)) : 0;
  const dateMs = Math.floor((createdMs - offset) / 1000) * 1000;
  return { id: r.uuid(), dateMs, description: scenario.event(story.params, r, index) };
}

/**
 * An event correlation adds to an incident after it was created: serial `serial` of the added
 * ones, dated `dateMs` (whole seconds, like the others). Its own seed, so the incident's first
 * events stay as they were.
 */
export function generateAddedEvent(
  story: Pick<GeneratedStory, "scenario" | "params" | "eventSeed">,
  serial: number,
  dateMs: number,
): GeneratedEvent {
  const r = new Random(mix32(story.eventSeed ^ 0x5eed_add5, serial));
  const scenario = SCENARIOS[story.scenario] ?? (SCENARIOS[0] as Scenario);
  // Index 1 gives the "more of the same" text of a scenario rather than its summary line.
  return {
    id: r.uuid(),
    dateMs: Math.floor(dateMs / 1000) * 1000,
    description: scenario.event(story.params, r, 1 + serial),
  };
}

/** One generated task ("issue") of an incident (the real type and estimate vocabularies are unknown). */
export interface GeneratedTask {
  id: string;
  type: string;
  name: string;
  description: string;
  status: string;
  assigned: { id: string } | null;
  estimatedTime: number | null;
}

const TASK_TEMPLATES: ReadonlyArray<{
  type: string;
  name: (p: StoryParams) => string;
  description: (p: StoryParams) => string;
}> = [
  {
    type: "Investigation",
    name: (p) => `Проверить узел ${p.host}`,
    description: (p) => `Собрать журналы узла ${p.host} (${p.hostIp}) за последние сутки`,
  },
  {
    type: "Response",
    name: (p) => `Заблокировать адрес ${p.attackerIp}`,
    description: (p) => `Добавить ${p.attackerIp} в список блокировки межсетевого экрана`,
  },
  {
    type: "Response",
    name: (p) => `Сменить пароль ${p.user}`,
    description: (p) => `Принудительно сменить пароль учетной записи ${p.user} и завершить её сессии`,
  },
  {
    type: "Investigation",
    name: (p) => `Проверить файл ${p.file}`,
    description: (p) => `Отправить ${p.file} с узла ${p.host} на анализ в песочницу`,
  },
];
const TASK_STATUSES = ["New", "Assigned", "InProgress", "Closed"] as const;
const TASK_ASSIGNEES = ["3f2b8e1a-6c4d-4e5f-9a0b-1c2d3e4f5a6b", "8d7c6b5a-4e3f-4a1b-8c9d-0e1f2a3b4c5d"];

export function generateTask(story: Pick<GeneratedStory, "params">, r: Random): GeneratedTask {
  const template = r.pick(TASK_TEMPLATES);
  const status = r.weighted(TASK_STATUSES, [3, 2, 2, 1]);
  const assignee = r.pick(TASK_ASSIGNEES);
  return {
    id: r.uuid(),
    type: template.type,
    name: template.name(story.params),
    description: template.description(story.params),
    status,
    // Always an object: S2 reads assigned.id without a null check, and S4 lists assigned{id}.
    assigned: { id: assignee },
    estimatedTime: r.pick([30, 60, 120, 240, 480]),
  };
}

/** 0–2 tasks, most incidents none. */
export function generateTasks(story: Pick<GeneratedStory, "params">, r: Random): GeneratedTask[] {
  const count = r.weighted([0, 1, 2], [6, 3, 1]);
  const tasks: GeneratedTask[] = [];
  for (let i = 0; i < count; i++) tasks.push(generateTask(story, r));
  return tasks;
}

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name);

// ---------------------------------------------------------------------------------------------
// Hostile content: everything that has broken chat bots before.

/** Characters that must be escaped in Telegram HTML or MarkdownV2. */
export const HOSTILE_NAME =
  "<b>Hostile</b> & _under_ *star* [link](http://x.invalid) `tick` ~s~ ||sp|| 🔥 שלום";

const HOSTILE_PIECES = [
  "<script>alert('x')</script> ",
  "&amp; &lt; & < > \" ' ",
  "_*[]()~`>#+-=|{}.!\\ ",
  "**жирный** __подчёркнутый__ [ссылка](javascript:alert(1)) ",
  "🔥🚨👨‍👩‍👧‍👦🏳️‍🌈🇷🇺 ",
  "مرحبا بالعالم ",
  "שלום עולם ",
  "\u202Egnp.exe\u202C ",
  "zero\u200Bwidth\u200Djoin ",
  "line\nbreak\r\ntab\t ",
  "Ошибка доступа к ресурсу login.html на узле vm-001. Причина: Not Found ",
];

/** Exactly `length` code points built from the hostile pieces (no surrogate pair is split). */
export function hostileText(length: number, startPiece = 0): string {
  const codePoints: string[] = [];
  for (let i = startPiece; codePoints.length < length; i++) {
    for (const cp of HOSTILE_PIECES[i % HOSTILE_PIECES.length] as string) {
      codePoints.push(cp);
      if (codePoints.length === length) break;
    }
  }
  return codePoints.join("");
}

/** Event descriptions for the hostile incident: each piece alone, then a very long one. */
export function hostileEventDescriptions(): string[] {
  return [
    ...HOSTILE_PIECES.map((piece, i) => `${i + 1}. ${piece.trim()} — ${HOSTILE_NAME}`),
    hostileText(5000, 3),
  ];
}
