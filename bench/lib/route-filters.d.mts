// Types of route-filters.mjs (plain JavaScript, so that the routed service loads it without a loader).
import type { Route } from "../../src/store/index.js";

export interface Matcher {
  field: string;
  op: string;
}

/** A chat's rule: what it receives, and what of that arrives silently (MATCHERS of design.md §3). */
export interface ChatRule {
  filter: string;
  silent?: string;
}

export function parseMatchers(text: string): Matcher[];
export function matches(
  matchers: readonly Matcher[],
  incident: {
    severity?: string | null;
    type?: string | null;
    category?: string | null;
    name?: string | null;
  },
): boolean;
export function routeFromRules(rules: Record<string, ChatRule>): Route;
