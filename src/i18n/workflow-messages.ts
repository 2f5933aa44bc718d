// The shape of the texts for working an incident from the chat (design.md §4): Take, Resolve, Close with
// a reason, races, the card's assignee / rules / parties / bot history, and /link, /unlink, /links.
// Plain text everywhere (escape before HTML), like the rest of the catalogue.

/** Why an incident is closed (render's CloseReason). */
export type CloseReasonKey = "false_positive" | "duplicate" | "authorised" | "other";

/** What a line of the card's bot history says was done. */
export type BotActionKind = "approve" | "take" | "resolve" | "close";

export interface LinkView {
  telegramId: number;
  /** The Telegram name when known ("@ivan", "Иван Петров"), else "". */
  telegramName: string;
  mpLogin: string;
  /** Who linked, as a label. */
  by: string;
  /** Already formatted. */
  at: string;
}

export interface WorkflowMessages {
  buttons: {
    take: string;
    resolve: string;
    closeDuplicate: string;
    closeAuthorised: string;
    closeOther: string;
  };
  /** The reason in words: the close comment and answers. */
  closeReason(reason: CloseReasonKey): string;
  /** The confirmation step's question (answer of the Close press). */
  confirmClose: string;
  answers: {
    /** Taken and assigned to the linked MP account. */
    taken(login: string): string;
    /** Taken without assignment: the presser is not linked; tells them to ask an admin. */
    takenNotLinked(telegramId: number): string;
    /** Taken, but the assignment failed (the linked login is gone, the SIEM refused…). */
    takenAssignFailed(reason: string): string;
    resolved: string;
    closed(reason: CloseReasonKey): string;
    /**
     * Someone got there first: the action is not (or no longer) offered in the current status. `by` and
     * `time` when known. Short: an answerCallbackQuery text.
     */
    raced(v: { status: string; by: string | null; time: string | null }): string;
  };
  siemComment: {
    takeMeasures: string;
    takeMessage(who: string): string;
    resolveMeasures: string;
    resolveMessage(who: string): string;
    closeMeasures: string;
    closeMessage(who: string, reason: CloseReasonKey): string;
  };
  card: {
    assignee: string;
    rules: string;
    targets: string;
    attackers: string;
    /** "and N more" after a shortened list of names. */
    andMore(n: number): string;
    /** Heading of the short history of actions taken through the bot. */
    history: string;
    historyLine(v: {
      time: string;
      who: string;
      action: BotActionKind;
      reason: CloseReasonKey | null;
    }): string;
  };
  links: {
    usageLink: string;
    usageUnlink: string;
    badTelegramId(raw: string): string;
    badLogin(raw: string): string;
    loginNotFound(login: string): string;
    lookupFailed(reason: string): string;
    linked(v: { telegramId: number; login: string; replaced: string | null }): string;
    unlinked(telegramId: number, login: string): string;
    notLinked(telegramId: number): string;
    listTitle: string;
    listEmpty: string;
    listLine(v: LinkView): string;
  };
}
