// A small tokenizer for ClickHouse SQL: enough to split migration files into statements and to let
// the read-only guard see past strings and comments. It follows ClickHouse's lexer where that matters
// for safety: nested /* */ comments, -- and # line comments, '' and \ escapes in strings and quoted
// identifiers. Anything it does not understand (heredocs $$...$$, non-ASCII outside quotes, ...) is
// an error rather than a guess, so a caller that refuses on error can never be fooled by a mismatch.

export type TokenType = 'word' | 'quoted' | 'string' | 'number' | 'punct' | 'comment';

export interface Token {
  type: TokenType;
  /** The token as written. */
  text: string;
  /** Words and numbers: the text; strings and quoted identifiers: the unescaped content. */
  value: string;
  start: number;
  end: number;
}

export class SqlSyntaxError extends Error {
  override readonly name = 'SqlSyntaxError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position + 1}`);
  }
}

const PUNCT = new Set('()[]{},;.:+-*/%=<>!|&^~?');
const WORD_START = /[A-Za-z_]/;
const WORD_CHAR = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const SPACE = /[ \t\n\r\f\v]/;

const QUOTES: Record<string, TokenType> = { "'": 'string', '`': 'quoted', '"': 'quoted' };
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f' };

/** Every token of `sql`, comments included, whitespace left out. Throws SqlSyntaxError. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const start = i;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if ((c === '-' && sql[i + 1] === '-') || c === '#') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? sql.length : eol;
      tokens.push(token('comment', sql, start, i, sql.slice(start, i)));
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      i = skipBlockComment(sql, i);
      tokens.push(token('comment', sql, start, i, sql.slice(start, i)));
      continue;
    }
    if (c in QUOTES) {
      const { end, value } = readQuoted(sql, i);
      i = end;
      tokens.push(token(QUOTES[c], sql, start, i, value));
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < sql.length && WORD_CHAR.test(sql[i])) i++;
      tokens.push(token('word', sql, start, i));
      continue;
    }
    if (DIGIT.test(c)) {
      i = readNumber(sql, i);
      tokens.push(token('number', sql, start, i));
      continue;
    }
    if (PUNCT.has(c)) {
      i++;
      tokens.push(token('punct', sql, start, i));
      continue;
    }
    throw new SqlSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
  }
  return tokens;
}

/** The tokens that mean something: comments dropped. */
export function significantTokens(sql: string): Token[] {
  return tokenize(sql).filter((t) => t.type !== 'comment');
}

/**
 * The statements of a script, split at top-level semicolons, each trimmed of surrounding comments
 * and whitespace; empty statements are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let first: Token | undefined;
  let last: Token | undefined;
  for (const t of tokenize(sql)) {
    if (t.type === 'comment') continue;
    if (t.type === 'punct' && t.value === ';') {
      if (first && last) statements.push(sql.slice(first.start, last.end));
      first = last = undefined;
      continue;
    }
    first ??= t;
    last = t;
  }
  if (first && last) statements.push(sql.slice(first.start, last.end));
  return statements;
}

function token(type: TokenType, sql: string, start: number, end: number, value?: string): Token {
  const text = sql.slice(start, end);
  return { type, text, value: value ?? text, start, end };
}

/** ClickHouse nests block comments: `/* a /* b *\/ c *\/` is one comment. */
function skipBlockComment(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  throw new SqlSyntaxError('unterminated comment', from);
}

/**
 * A quoted string or identifier: a doubled quote or a backslash escapes the next character. A
 * backslash in a quoted identifier is refused: ClickHouse decodes escapes such as \x66, and the
 * name a caller checks must be the name ClickHouse sees.
 */
function readQuoted(sql: string, from: number): { end: number; value: string } {
  const quote = sql[from];
  let value = '';
  let i = from + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\' && quote !== "'") {
      throw new SqlSyntaxError('backslash in a quoted identifier', i);
    }
    if (c === '\\') {
      if (i + 1 >= sql.length) break;
      const next = sql[i + 1];
      value += ESCAPES[next] ?? next;
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) {
        value += quote;
        i += 2;
      } else {
        return { end: i + 1, value };
      }
    } else {
      value += c;
      i++;
    }
  }
  throw new SqlSyntaxError(quote === "'" ? 'unterminated string' : 'unterminated quoted identifier', from);
}

/**
 * Decimal (1, 1_000, 1.5, 1e-3) and 0x / 0b numbers. ClickHouse reads `1file` as an identifier, so
 * a letter glued to a number is an error here instead of a second token.
 */
function readNumber(sql: string, from: number): number {
  const rest = sql.slice(from);
  const m = /^(?:0x[0-9A-Fa-f]+|0b[01]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?)/.exec(rest);
  const end = from + (m ? m[0].length : 1);
  if (end < sql.length && WORD_CHAR.test(sql[end])) {
    throw new SqlSyntaxError(`unexpected ${JSON.stringify(sql.slice(from, end + 1))} (a number followed by a letter)`, from);
  }
  return end;
}
