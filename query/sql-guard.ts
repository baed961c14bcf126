// The read-only guard of user SQL (`npm run sql` and the SQL endpoint). The embedded engine cannot be
// made read-only by settings (they stick to its one session), so this guard is the protection: it
// allows one plain read of the project's own tables and refuses everything else, naming what is not
// allowed.
//
// Layers, each enough on its own for the dangers it covers:
//  1. Statement kinds are allowlisted: SELECT / WITH ... SELECT, EXPLAIN of those, DESCRIBE and
//     SHOW CREATE of an allowed table, SHOW TABLES. One statement only.
//  2. Tables are allowlisted wherever a table can appear (FROM lists, JOIN, IN, DESCRIBE): a name
//     from the allowlist (optionally qualified with the project's database), a name defined in the
//     query (WITH x AS (...)), or a subquery. A name followed by `(` there is a table function.
//  3. Anywhere in the query: no SETTINGS, FORMAT, INTO, statement keywords, table functions, file- /
//     setting- / dictionary-reading functions, nor the system databases.
// Strings and comments are skipped by a tokenizer that follows ClickHouse's lexer and refuses what
// it does not understand.
import {
  CLAUSE_WORDS,
  EXPLAIN_KINDS,
  FORBIDDEN_KEYWORDS,
  KEYWORD_ARGUMENT_FUNCTIONS,
  SYSTEM_DATABASES,
  TABLE_FUNCTIONS,
  isDeniedFunction,
} from './sql-guard-lists.ts';
import { SqlSyntaxError, significantTokens, type Token } from '../processor/clickhouse/sql-tokens.ts';

/** The tables (and views) of the project a user query may read. */
const READABLE_TABLES: readonly string[] = ['k8s_expenses', 'k8s_expenses_final', 'k8s_expenses_focus', 'k8s_node_expenses', 'k8s_node_expenses_final', 'schema_migrations'];

const MAX_QUERY_LENGTH = 100_000;

export type GuardResult =
  /** `sql`: the statement without a trailing semicolon or comment, ready for a FORMAT suffix. */
  | { ok: true; sql: string }
  | { ok: false; message: string };

export interface GuardOptions {
  /** The project's database: the only one a table name may be qualified with (default: "default"). */
  database?: string;
  tables?: readonly string[];
}

const ALLOWED_STATEMENTS = 'only SELECT (or WITH ... SELECT), EXPLAIN, DESCRIBE, SHOW TABLES and SHOW CREATE TABLE are allowed';

class Refusal extends Error {}

/** Whether `sql` is a single plain read of the project's tables; if not, why. */
export function checkReadOnlyQuery(sql: string, options: GuardOptions = {}): GuardResult {
  try {
    return { ok: true, sql: new Guard(sql, options).check() };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, message: err.message };
    if (err instanceof SqlSyntaxError) return { ok: false, message: `the query cannot be checked: ${err.message}` };
    throw err;
  }
}

const isWord = (t: Token | undefined, upper?: string): boolean =>
  t !== undefined && t.type === 'word' && (upper === undefined || t.value.toUpperCase() === upper);
const isName = (t: Token | undefined): boolean => t !== undefined && (t.type === 'word' || t.type === 'quoted');
const isPunct = (t: Token | undefined, p: string): boolean => t !== undefined && t.type === 'punct' && t.value === p;

class Guard {
  private readonly tokens: Token[];
  private readonly database: string;
  private readonly tables: readonly string[];
  private readonly tableList: string;
  /** Index of the matching parenthesis, for both ends. */
  private readonly match = new Map<number, number>();
  /** Index of the innermost `(` around each token, or -1. */
  private readonly enclosing: number[] = [];
  /** Names the query defines (aliases, WITH names): a FROM / IN may refer to them. */
  private readonly defined = new Set<string>();

  constructor(
    private readonly sql: string,
    options: GuardOptions,
  ) {
    if (sql.length > MAX_QUERY_LENGTH) throw new Refusal(`the query is longer than ${MAX_QUERY_LENGTH} characters`);
    this.database = options.database ?? 'default';
    this.tables = options.tables ?? READABLE_TABLES;
    this.tableList = this.tables.join(', ');
    this.tokens = significantTokens(sql);
  }

  check(): string {
    const tokens = this.tokens;
    if (isPunct(tokens.at(-1), ';')) tokens.pop();
    if (tokens.length === 0) throw new Refusal('the query is empty');
    const semicolon = tokens.find((t) => isPunct(t, ';'));
    if (semicolon) throw new Refusal(`only one statement is allowed (";" at position ${semicolon.start + 1})`);
    this.matchParentheses();
    this.checkNames();
    this.checkStatement();
    return this.sql.slice(tokens[0].start, tokens[tokens.length - 1].end);
  }

  private refuseTable(name: string): never {
    throw new Refusal(`table ${name} is not readable: queries may read only ${this.tableList}`);
  }

  private matchParentheses(): void {
    const stack: number[] = [];
    this.tokens.forEach((t, i) => {
      this.enclosing.push(stack.at(-1) ?? -1);
      if (isPunct(t, '(')) stack.push(i);
      if (isPunct(t, ')')) {
        const open = stack.pop();
        if (open === undefined) throw new Refusal(`unbalanced ")" at position ${t.start + 1}`);
        this.match.set(open, i).set(i, open);
      }
    });
    if (stack.length > 0) throw new Refusal(`unbalanced "(" at position ${this.tokens[stack[0]].start + 1}`);
  }

  /** Layer 3: names refused wherever they appear. */
  private checkNames(): void {
    const tokens = this.tokens;
    tokens.forEach((t, i) => {
      if (!isName(t)) return;
      const lower = t.value.toLowerCase();
      const next = tokens[i + 1];
      if (isPunct(next, '.') && SYSTEM_DATABASES.has(lower)) {
        throw new Refusal(`the ${t.value} database is not readable: queries may read only ${this.tableList}`);
      }
      if (isPunct(next, '(')) {
        const inFrom = isWord(tokens[i - 1], 'FROM') || isWord(tokens[i - 1], 'JOIN');
        if (isDeniedFunction(lower) && !inFrom) throw new Refusal(`function ${t.value}() is not allowed`);
        if (TABLE_FUNCTIONS.has(lower) || isDeniedFunction(lower)) {
          throw new Refusal(`table function ${t.value}() is not allowed: queries may read only ${this.tableList}`);
        }
      }
      if (t.type === 'word') {
        const upper = t.value.toUpperCase();
        const showCreate = upper === 'CREATE' && i === 1 && isWord(tokens[0], 'SHOW');
        const reason = FORBIDDEN_KEYWORDS.get(upper);
        if (reason && !showCreate) throw new Refusal(reason);
      }
    });
  }

  /** Layer 1: the statement kind. */
  private checkStatement(): void {
    const tokens = this.tokens;
    const first = tokens[0];
    const kind = first.type === 'word' ? first.value.toUpperCase() : '';
    switch (kind) {
      case 'SELECT':
      case 'WITH':
        return this.checkSelect(0);
      case 'EXPLAIN': {
        let i = 1;
        if (isWord(tokens[i], 'QUERY') && isWord(tokens[i + 1], 'TREE')) i += 2;
        else if (tokens[i]?.type === 'word' && EXPLAIN_KINDS.has(tokens[i].value.toUpperCase())) i += 1;
        if (!isWord(tokens[i], 'SELECT') && !isWord(tokens[i], 'WITH')) {
          throw new Refusal('EXPLAIN is allowed only for a SELECT, with no options');
        }
        return this.checkSelect(i);
      }
      case 'DESC':
      case 'DESCRIBE': {
        const i = isWord(tokens[1], 'TABLE') ? 2 : 1;
        return this.expectEnd(this.checkTableName(i, 'DESCRIBE'), 'DESCRIBE');
      }
      case 'SHOW':
        return this.checkShow();
      default:
        throw new Refusal(`${kind ? `${kind} statements are not allowed` : 'the query must start with a statement keyword'}: ${ALLOWED_STATEMENTS}`);
    }
  }

  private checkShow(): void {
    const tokens = this.tokens;
    if (isWord(tokens[1], 'CREATE')) {
      const i = isWord(tokens[2], 'TABLE') || isWord(tokens[2], 'VIEW') ? 3 : 2;
      return this.expectEnd(this.checkTableName(i, 'SHOW CREATE'), 'SHOW CREATE');
    }
    if (!isWord(tokens[1], 'TABLES')) throw new Refusal(`only SHOW TABLES and SHOW CREATE TABLE are allowed: ${ALLOWED_STATEMENTS}`);
    let i = 2;
    if (isWord(tokens[i], 'FROM') || isWord(tokens[i], 'IN')) {
      if (tokens[i + 1]?.value !== this.database) throw new Refusal(`SHOW TABLES may list only the database ${this.database}`);
      i += 2;
    }
    if (isWord(tokens[i], 'NOT')) i++;
    if ((isWord(tokens[i], 'LIKE') || isWord(tokens[i], 'ILIKE')) && tokens[i + 1]?.type === 'string') i += 2;
    this.expectEnd(i, 'SHOW TABLES');
  }

  private expectEnd(i: number, statement: string): void {
    const extra = this.tokens[i];
    if (extra) throw new Refusal(`unexpected "${extra.text}" after ${statement}: ${ALLOWED_STATEMENTS}`);
  }

  /** Layer 2 for a SELECT starting at token `from`: every table reference must be allowed. */
  private checkSelect(from: number): void {
    const tokens = this.tokens;
    tokens.forEach((t, i) => {
      if (isWord(t, 'AS') && isName(tokens[i + 1])) this.defined.add(tokens[i + 1].value);
      if (isName(t) && isWord(tokens[i + 1], 'AS') && isPunct(tokens[i + 2], '(')) this.defined.add(t.value);
    });
    for (let i = from; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.type !== 'word') continue;
      const upper = t.value.toUpperCase();
      if (upper === 'FROM' && !isWord(tokens[i - 1], 'FILL') && !this.inKeywordArguments(i)) {
        this.checkTableReference(i + 1, 'FROM', true);
      } else if (upper === 'JOIN' && !isWord(tokens[i - 1], 'ARRAY')) {
        this.checkTableReference(i + 1, 'JOIN', false);
      } else if (upper === 'IN' && !this.inKeywordArguments(i) && isName(tokens[i + 1]) && !isPunct(tokens[i + 2], '(')) {
        // `x IN t` reads table t; `x IN (...)` and `x IN f(...)` are expressions.
        this.checkTableName(i + 1, 'IN');
      }
    }
  }

  /** Inside EXTRACT(... FROM ...), position(... IN ...) and the like, FROM / IN are not tables. */
  private inKeywordArguments(i: number): boolean {
    const open = this.enclosing[i];
    const fn = open > 0 ? this.tokens[open - 1] : undefined;
    return fn !== undefined && fn.type === 'word' && KEYWORD_ARGUMENT_FUNCTIONS.has(fn.value.toLowerCase());
  }

  /** A table reference at token `i`: subquery, allowed table or defined name; then a FROM list's `,`. */
  private checkTableReference(i: number, clause: string, list: boolean): void {
    const tokens = this.tokens;
    const t = tokens[i];
    let after: number;
    if (isPunct(t, '(')) {
      let k = i;
      while (isPunct(tokens[k], '(')) k++;
      if (!isWord(tokens[k], 'SELECT') && !isWord(tokens[k], 'WITH')) {
        throw new Refusal(`${clause} (...) may hold only a subquery: queries may read only ${this.tableList}`);
      }
      after = (this.match.get(i) ?? tokens.length) + 1;
    } else {
      after = this.checkTableName(i, clause);
    }
    if (!list) return;
    // Skip FINAL, SAMPLE k [OFFSET m], [AS] alias; a comma then starts the next table of the list.
    let k = after;
    while (k < tokens.length) {
      const u = tokens[k];
      const upper = u.type === 'word' ? u.value.toUpperCase() : '';
      if (['FINAL', 'AS', 'SAMPLE'].includes(upper) || (upper === 'OFFSET' && isWord(tokens[k - 2], 'SAMPLE'))) k++;
      else if (u.type === 'number' || isPunct(u, '/') || isPunct(u, '.')) k++;
      else if (isName(u) && !CLAUSE_WORDS.has(upper)) k++;
      else break;
    }
    if (isPunct(tokens[k], ',')) this.checkTableReference(k + 1, clause, true);
  }

  /** A (possibly database-qualified) table name at token `i`; returns the index after it. */
  private checkTableName(i: number, clause: string): number {
    const tokens = this.tokens;
    const t = tokens.at(i);
    if (t === undefined || !isName(t)) throw new Refusal(`expected a table after ${clause}${t ? `, found "${t.text}"` : ''}`);
    const qualified = isPunct(tokens[i + 1], '.') && isName(tokens[i + 2]);
    const name = qualified ? tokens[i + 2].value : t.value;
    const after = qualified ? i + 3 : i + 1;
    if (isPunct(tokens[after], '(')) {
      throw new Refusal(`table function ${name}() is not allowed: queries may read only ${this.tableList}`);
    }
    if (qualified) {
      if (t.value !== this.database || !this.tables.includes(name)) this.refuseTable(`${t.value}.${name}`);
    } else if (!this.tables.includes(name) && !(clause !== 'DESCRIBE' && clause !== 'SHOW CREATE' && this.defined.has(name))) {
      this.refuseTable(name);
    }
    return after;
  }
}
