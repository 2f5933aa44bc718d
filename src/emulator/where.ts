// The subset of the list call's `filter.where` language that public clients use
// (mpsiem-api.md §3.3), compiled into a predicate:
//   status != "Closed"            (status != "Closed")         status NOT IN ('Resolved', 'Closed')
//   status = 'new'                key="INC-123"                CorrelationNames = 'Password_brute'
//   name in ['a', 'b']            match(name, "soc_%")         (name contains "x")
//   … joined with AND / OR / NOT and parentheses.
// Keywords, field names and compared values are case-insensitive; strings take ' or " quotes.

export class WhereSyntaxError extends Error {
  override readonly name = "WhereSyntaxError";
}

/** The fields a where clause can read, as plain strings (booleans as "true"/"false"). */
export type WhereFieldReader = (field: WhereField) => string;

export const WHERE_FIELDS = [
  "id",
  "key",
  "name",
  "status",
  "severity",
  "category",
  "type",
  "description",
  "isconfirmed",
] as const;
export type WhereField = (typeof WHERE_FIELDS)[number];

/** Names clients use that mean one of ours. */
const FIELD_ALIASES: Record<string, WhereField> = {
  correlationnames: "name",
  correlationname: "name",
};

type Token =
  | { kind: "word"; text: string; pos: number }
  | { kind: "string"; text: string; pos: number }
  | { kind: "number"; text: string; pos: number }
  | { kind: "op"; text: string; pos: number }
  | { kind: "punct"; text: string; pos: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "'" || ch === '"') {
      const start = i;
      let text = "";
      i++;
      for (;;) {
        if (i >= source.length)
          throw new WhereSyntaxError(`unterminated string starting at position ${start + 1}`);
        const c = source[i] as string;
        if (c === "\\" && i + 1 < source.length) {
          text += source[i + 1];
          i += 2;
        } else if (c === ch && source[i + 1] === ch) {
          text += ch; // SQL-style doubled quote
          i += 2;
        } else if (c === ch) {
          i++;
          break;
        } else {
          text += c;
          i++;
        }
      }
      tokens.push({ kind: "string", text, pos: start });
    } else if ("()[],".includes(ch)) {
      tokens.push({ kind: "punct", text: ch, pos: i });
      i++;
    } else if ("=!<>".includes(ch)) {
      const two = source.slice(i, i + 2);
      const text = ["==", "!=", "<>", "<=", ">="].includes(two) ? two : ch;
      if (text === "!") throw new WhereSyntaxError(`unexpected '!' at position ${i + 1}`);
      tokens.push({ kind: "op", text, pos: i });
      i += text.length;
    } else if (/[0-9-]/.test(ch) && /^-?\d/.test(source.slice(i, i + 2))) {
      const m = /^-?\d+(\.\d+)?/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ kind: "number", text: m[0], pos: i });
      i += m[0].length;
    } else if (/[\p{L}_]/u.test(ch)) {
      // Hyphens inside a word let unquoted keys like INC-12 through.
      const m = /^[\p{L}_][\p{L}\p{N}_.-]*/u.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ kind: "word", text: m[0], pos: i });
      i += m[0].length;
    } else {
      throw new WhereSyntaxError(`unexpected character '${ch}' at position ${i + 1}`);
    }
  }
  return tokens;
}

export type WherePredicate = (read: WhereFieldReader) => boolean;

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): WherePredicate {
    const predicate = this.parseOr();
    const extra = this.tokens[this.index];
    if (extra) throw new WhereSyntaxError(`unexpected '${extra.text}' at position ${extra.pos + 1}`);
    return predicate;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private isKeyword(token: Token | undefined, keyword: string): boolean {
    return token?.kind === "word" && token.text.toLowerCase() === keyword;
  }

  private expectPunct(text: string): void {
    const token = this.tokens[this.index];
    if (token?.kind !== "punct" || token.text !== text) {
      throw new WhereSyntaxError(
        token
          ? `expected '${text}' at position ${token.pos + 1}, found '${token.text}'`
          : `expected '${text}' at the end`,
      );
    }
    this.index++;
  }

  private parseOr(): WherePredicate {
    const parts = [this.parseAnd()];
    while (this.isKeyword(this.peek(), "or")) {
      this.index++;
      parts.push(this.parseAnd());
    }
    return parts.length === 1 ? (parts[0] as WherePredicate) : (read) => parts.some((p) => p(read));
  }

  private parseAnd(): WherePredicate {
    const parts = [this.parseUnary()];
    while (this.isKeyword(this.peek(), "and")) {
      this.index++;
      parts.push(this.parseUnary());
    }
    return parts.length === 1 ? (parts[0] as WherePredicate) : (read) => parts.every((p) => p(read));
  }

  private parseUnary(): WherePredicate {
    const token = this.peek();
    if (this.isKeyword(token, "not")) {
      this.index++;
      const inner = this.parseUnary();
      return (read) => !inner(read);
    }
    if (token?.kind === "punct" && token.text === "(") {
      this.index++;
      const inner = this.parseOr();
      this.expectPunct(")");
      return inner;
    }
    if (this.isKeyword(token, "match") && this.tokens[this.index + 1]?.text === "(") {
      return this.parseMatch();
    }
    return this.parseComparison();
  }

  private parseField(): WhereField {
    const token = this.tokens[this.index];
    if (token?.kind !== "word") {
      throw new WhereSyntaxError(
        token
          ? `expected a field name at position ${token.pos + 1}, found '${token.text}'`
          : "expected a field name",
      );
    }
    this.index++;
    const lower = token.text.toLowerCase();
    const field = FIELD_ALIASES[lower] ?? (WHERE_FIELDS as readonly string[]).find((f) => f === lower);
    if (!field) {
      throw new WhereSyntaxError(
        `unknown field '${token.text}'; the emulator knows ${WHERE_FIELDS.join(", ")}`,
      );
    }
    return field as WhereField;
  }

  private parseValue(): string {
    const token = this.tokens[this.index];
    if (!token || token.kind === "op" || token.kind === "punct") {
      throw new WhereSyntaxError(
        token ? `expected a value at position ${token.pos + 1}` : "expected a value at the end",
      );
    }
    this.index++;
    return token.text.toLowerCase();
  }

  private parseList(): string[] {
    const open = this.peek();
    if (open?.kind !== "punct" || (open.text !== "(" && open.text !== "[")) {
      throw new WhereSyntaxError("IN needs a list in ( ) or [ ]");
    }
    const close = open.text === "(" ? ")" : "]";
    this.index++;
    const values: string[] = [];
    if (this.peek()?.text !== close) {
      values.push(this.parseValue());
      while (this.peek()?.text === ",") {
        this.index++;
        values.push(this.parseValue());
      }
    }
    this.expectPunct(close);
    return values;
  }

  private parseMatch(): WherePredicate {
    this.index++; // match
    this.expectPunct("(");
    const field = this.parseField();
    this.expectPunct(",");
    const pattern = this.parseValue();
    this.expectPunct(")");
    // `%` is the wildcard (S13: "soc_%"); `_` stays literal because rule names are full of it.
    const regex = new RegExp(`^${pattern.split("%").map(escapeRegex).join(".*")}$`, "s");
    return (read) => regex.test(read(field).toLowerCase());
  }

  private parseComparison(): WherePredicate {
    const field = this.parseField();
    const next = this.peek();
    if (this.isKeyword(next, "not") && this.isKeyword(this.tokens[this.index + 1], "in")) {
      this.index += 2;
      const values = new Set(this.parseList());
      return (read) => !values.has(read(field).toLowerCase());
    }
    if (this.isKeyword(next, "in")) {
      this.index++;
      const values = new Set(this.parseList());
      return (read) => values.has(read(field).toLowerCase());
    }
    if (this.isKeyword(next, "contains")) {
      this.index++;
      const value = this.parseValue();
      return (read) => read(field).toLowerCase().includes(value);
    }
    if (next?.kind === "op") {
      this.index++;
      const value = this.parseValue();
      switch (next.text) {
        case "=":
        case "==":
          return (read) => read(field).toLowerCase() === value;
        case "!=":
        case "<>":
          return (read) => read(field).toLowerCase() !== value;
        default:
          throw new WhereSyntaxError(
            `operator '${next.text}' is not supported by the emulator; use =, !=, IN, contains`,
          );
      }
    }
    throw new WhereSyntaxError(
      next
        ? `expected an operator after '${field}' at position ${next.pos + 1}, found '${next.text}'`
        : `expected an operator after '${field}'`,
    );
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compiles a where clause; an empty or blank clause matches everything. Throws WhereSyntaxError. */
export function compileWhere(source: string): WherePredicate {
  if (source.trim() === "") return () => true;
  const tokens = tokenize(source);
  return new Parser(tokens).parse();
}
