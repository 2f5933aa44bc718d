// Routing and noise control (design.md §3): which chats get an incident, into which topic, how loudly.
// This folder is pure (it imports no other folder): the grammar of matchers and active hours, the compiled
// rules and the decision. The store keeps the rules (store/routing-rules.ts), intake makes the decision
// at queue time (intake/routing.ts), the bot's commands change the rules (telegram/routing-commands.ts),
// and config/ validates the routes of the config file with the same grammar.

export {
  type ActiveHoursResult,
  type ActiveHoursSpec,
  type LocalClock,
  localClock,
  parseActiveHours,
  withinActiveHours,
} from "./active-hours.js";
export {
  type CompiledRules,
  type DestinationRule,
  type MuteRule,
  type RoutedChat,
  type RoutedDelivery,
  type RoutedIncident,
  Router,
  type RoutingSettings,
} from "./decide.js";
export {
  type CompiledMatchers,
  compileMatchers,
  describeMatcherErrorEn,
  describeMatcherProblemEn,
  describeRegexProblemEn,
  type FactsInput,
  formatMatchers,
  type IncidentFacts,
  incidentFacts,
  MATCHER_FIELDS,
  MATCHER_OPS,
  MAX_MATCHERS,
  MAX_VALUE_LENGTH,
  type Matcher,
  type MatcherError,
  type MatcherField,
  type MatcherOp,
  type MatcherProblem,
  type ParseResult,
  parseMatchers,
  splitComment,
  type Verdict,
} from "./matchers.js";
export {
  compileRegex,
  MAX_OPEN_REPEATS,
  MAX_PATTERN_LENGTH,
  MAX_REPEATS,
  MAX_SUBJECT_LENGTH,
  type RegexProblem,
  regexProblem,
  regexSubject,
} from "./regex.js";
export {
  type BadRule,
  compileRules,
  FILTER_NONE,
  type StoredDestinationLike,
  type StoredMuteLike,
} from "./rules.js";
export {
  SEVERITY_RANK,
  SEVERITY_WORDS_HINT,
  type SeverityLevel,
  severityOfWord,
  severityRank,
} from "./severity.js";
