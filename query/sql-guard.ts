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
import { EXPLAIN_KINDS, FORBIDDEN_KEYWORDS, SYSTEM_DATABASES, TABLE_FUNCTIONS, isDeniedFunction } from './sql-guard-lists.ts';
import { TableReferences } from './sql-guard-tables.ts';
import { isName, isPunct, isWord, Refusal, tokenView, type TokenView } from './sql-guard-tokens.ts';
import { SqlSyntaxError, significantTokens, type Token } from '../processor/clickhouse/sql-tokens.ts';

/** The tables (and views) of the project a user query may read. */
export const READABLE_TABLES: readonly string[] = ['k8s_expenses', 'k8s_expenses_final', 'k8s_expenses_focus', 'k8s_node_expenses', 'k8s_node_expenses_final', 'schema_migrations'];

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

class Guard {
  private readonly tokens: Token[];
  private readonly database: string;
  private readonly tables: readonly string[];
  private readonly tableList: string;
  private view!: TokenView;
  private references!: TableReferences;

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
    this.view = tokenView(tokens);
    this.references = new TableReferences(this.view, { database: this.database, tables: this.tables });
    this.checkNames();
    this.checkStatement();
    return this.sql.slice(tokens[0].start, tokens[tokens.length - 1].end);
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

  /** Layer 2 for a SELECT starting at token `from`: every table it reads must be allowed. */
  private checkSelect(from: number): void {
    this.references.checkSelect(from);
  }

  /** An allowed table (never a name the query defines) at token `i`; returns the index after it. */
  private checkTableName(i: number, statement: string): number {
    return this.references.checkTableName(i, statement);
  }
}
