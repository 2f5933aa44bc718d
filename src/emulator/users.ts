// MP users as the Management & Configuration service knows them (mpsiem-api.md §7.1):
// `POST :3334/ptms/api/sso/v1/users/query` lists them; a user's `id` (UUID) is what
// `PUT /api/incidents/{id}` takes as `assigned` (§6.3). The details call names an assignee with
// `{id, firstName, lastName}` (§4), so the emulator keeps names beside each login.

import { EmulatorError } from "./errors.js";
import { userIdFor } from "./user-id.js";

export type UserStatus = "active" | "blocked";

export interface EmulatorUser {
  id: string;
  userName: string;
  firstName: string;
  lastName: string;
  status: UserStatus;
  /** 0 local, 1 LDAP (the query's `authTypes`). */
  authType: 0 | 1;
}

export interface UserInput {
  userName: string;
  firstName?: string;
  lastName?: string;
  status?: UserStatus;
  authType?: 0 | 1;
}

const USER_NAME_RE = /^[\p{L}\p{N}._@\\-]{1,128}$/u;

export class UserDirectory {
  private readonly users = new Map<string, EmulatorUser>();

  /** Adds a user (its id derives from the login, as the history's changedBy does) or returns the existing one. */
  add(input: UserInput): EmulatorUser {
    const userName = typeof input.userName === "string" ? input.userName.trim() : "";
    if (!USER_NAME_RE.test(userName)) {
      throw new EmulatorError(400, "userName must be 1-128 letters, digits or . _ @ \\ -");
    }
    const existing = [...this.users.values()].find(
      (u) => u.userName.toLowerCase() === userName.toLowerCase(),
    );
    if (existing) return { ...existing };
    const status = input.status ?? "active";
    if (status !== "active" && status !== "blocked")
      throw new EmulatorError(400, "status must be active or blocked");
    const user: EmulatorUser = {
      id: userIdFor(userName),
      userName,
      firstName: typeof input.firstName === "string" ? input.firstName : "",
      lastName: typeof input.lastName === "string" ? input.lastName : "",
      status,
      authType: input.authType === 1 ? 1 : 0,
    };
    this.users.set(user.id, user);
    return { ...user };
  }

  byId(id: string): EmulatorUser | undefined {
    const user = this.users.get(id);
    return user ? { ...user } : undefined;
  }

  list(): EmulatorUser[] {
    return [...this.users.values()].map((u) => ({ ...u }));
  }

  /**
   * The users query body `{"authTypes":[1,0],"statuses":["active","blocked"],"withoutRoles":true}`
   * (S2). Absent filters match everything; a filter of the wrong type is a 400.
   */
  query(body: unknown): { items: Record<string, unknown>[] } {
    const object = body === undefined || body === null ? {} : body;
    if (typeof object !== "object" || Array.isArray(object))
      throw new EmulatorError(400, "The body must be a JSON object");
    const { authTypes, statuses, withoutRoles } = object as Record<string, unknown>;
    if (authTypes !== undefined && !(Array.isArray(authTypes) && authTypes.every((a) => a === 0 || a === 1)))
      throw new EmulatorError(400, "authTypes must be an array of 0 and 1");
    if (
      statuses !== undefined &&
      !(Array.isArray(statuses) && statuses.every((s) => s === "active" || s === "blocked"))
    )
      throw new EmulatorError(400, 'statuses must be an array of "active" and "blocked"');
    const items = this.list()
      .filter((u) => authTypes === undefined || (authTypes as number[]).includes(u.authType))
      .filter((u) => statuses === undefined || (statuses as string[]).includes(u.status))
      .map((u) => ({
        id: u.id,
        userName: u.userName,
        status: u.status,
        isReadOnly: false,
        siteId: null,
        authType: u.authType,
        ldapAliases: [],
        roles: withoutRoles === true ? [] : [{ roleId: "analyst", applicationId: "mpx", tenantId: null }],
        system: false,
      }));
    return { items };
  }
}
