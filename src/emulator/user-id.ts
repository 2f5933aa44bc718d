// A stable UUID for an MP login, so the history's changedBy and the users query name the same user.
import { Random } from "./random.js";

export function userIdFor(subject: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < subject.length; i++) hash = Math.imul(hash ^ subject.charCodeAt(i), 0x01000193);
  return new Random(hash >>> 0).uuid();
}
