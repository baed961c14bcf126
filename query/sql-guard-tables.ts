// Layer 2 of the read-only guard: every place a SELECT can read a table names an allowed one.
//
// A table is read after FROM and JOIN, after every comma of a FROM clause (also after a JOIN's ON
// or USING: `FROM a JOIN b ON ..., c` reads c), and after IN, bare or parenthesized (`x IN (t)`
// reads t). Such a name must be an allowed table, optionally qualified with the project's database,
// or a CTE (`WITH name AS (SELECT ...)`) where ClickHouse resolves the name to it: after the CTE's
// own body (inside it, the name is the table), up to the end of its query level or the next
// UNION / EXCEPT / INTERSECT. After IN, a WITH alias (`WITH [...] AS name`) also resolves first.
// An alias of a table or of a SELECT expression never stands for a table here: ClickHouse reads
// the table of that name.
//
// Keywords that look like these places are told apart by what ClickHouse's parser accepts:
// `WITH FILL FROM x` and `ARRAY JOIN x` take expressions, but `AS fill FROM t` and `AS array JOIN
// t` are aliases followed by a real FROM and JOIN (the guard-and-engine tests run each on the
// engine). What the guard cannot place is refused.
import { KEYWORD_ARGUMENT_FUNCTIONS } from './sql-guard-lists.ts';
import { after, isName, isPunct, isWord, Refusal, type TokenView } from './sql-guard-tokens.ts';

/** More table references than any report needs; a bound on the work a query can make. */
export const MAX_TABLE_REFERENCES = 100;

export interface TableRules {
  /** The only database a table name may be qualified with. */
  database: string;
  tables: readonly string[];
}

/** Words that end a FROM clause at its level. */
const FROM_CLAUSE_END: ReadonlySet<string> = new Set([
  'WHERE', 'PREWHERE', 'GROUP', 'ORDER', 'LIMIT', 'HAVING', 'UNION', 'EXCEPT', 'INTERSECT', 'WINDOW', 'QUALIFY', 'SETTINGS',
  'FORMAT', 'INTO', 'SELECT', 'FROM',
]);
const SET_OPERATORS: ReadonlySet<string> = new Set(['UNION', 'EXCEPT', 'INTERSECT']);
/** WITH followed by these is a modifier (ORDER BY ... WITH FILL, GROUP BY ... WITH TOTALS), not a WITH clause. */
const WITH_MODIFIERS: ReadonlySet<string> = new Set(['FILL', 'TOTALS', 'ROLLUP', 'CUBE', 'TIES']);

type Clause = 'FROM' | 'JOIN' | 'IN';

interface Scope {
  name: string;
  /** Token indexes where the name resolves: [from, to). */
  from: number;
  to: number;
}

export class TableReferences {
  private readonly tokens;
  /** For each token, the next UNION / EXCEPT / INTERSECT at its level, or the end of its level. */
  private readonly levelEnds: number[];
  private readonly ctes: Scope[] = [];
  private readonly withAliases: Scope[] = [];
  private references = 0;

  constructor(
    private readonly view: TokenView,
    private readonly rules: TableRules,
  ) {
    this.tokens = view.tokens;
    this.levelEnds = levelEnds(view);
  }

  private get tableList(): string {
    return this.rules.tables.join(', ');
  }

  refuseTable(name: string): never {
    throw new Refusal(`table ${name} is not readable: queries may read only ${this.tableList}`);
  }

  /** Every table the SELECT starting at token `from` reads. */
  checkSelect(from: number): void {
    this.collectWithNames(from);
    const tokens = this.tokens;
    for (let i = from; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.type !== 'word') continue;
      const upper = t.value.toUpperCase();
      if (upper === 'FROM' && !this.isFillFrom(i) && !this.inKeywordArguments(i)) this.checkFromClause(i);
      // Every JOIN is inside a FROM clause already checked; checked again in case ClickHouse takes a
      // FROM for one the guard skipped.
      else if (upper === 'JOIN' && !this.isArrayJoin(i)) this.checkReference(i + 1, 'JOIN', false);
      else if (upper === 'IN' && !this.inKeywordArguments(i)) this.checkInOperand(i);
    }
  }

  /** A (possibly database-qualified) table name at token `i`; returns the index after it. */
  checkTableName(i: number, clause: string): number {
    const tokens = this.tokens;
    const t = tokens.at(i);
    if (t === undefined || !isName(t)) throw new Refusal(`expected a table after ${clause}${t ? `, found "${t.text}"` : ''}`);
    const qualified = isPunct(tokens[i + 1], '.') && isName(tokens[i + 2]);
    const name = qualified ? tokens[i + 2].value : t.value;
    const next = qualified ? i + 3 : i + 1;
    if (isPunct(tokens[next], '(')) throw new Refusal(`table function ${name}() is not allowed: queries may read only ${this.tableList}`);
    if (qualified) {
      if (t.value !== this.rules.database || !this.rules.tables.includes(name)) this.refuseTable(`${t.value}.${name}`);
    } else if (!this.rules.tables.includes(name) && !this.resolvesToQueryName(name, i, clause)) {
      this.refuseTable(name);
    }
    return next;
  }

  private resolvesToQueryName(name: string, i: number, clause: string): boolean {
    const inScope = (s: Scope) => s.name === name && s.from <= i && i < s.to;
    if (clause !== 'FROM' && clause !== 'JOIN' && clause !== 'IN') return false;
    return this.ctes.some(inScope) || (clause === 'IN' && this.withAliases.some(inScope));
  }

  /** The names each WITH clause defines: CTEs, and aliases of expressions. */
  private collectWithNames(from: number): void {
    const tokens = this.tokens;
    for (let w = from; w < tokens.length; w++) {
      if (!isWord(tokens[w], 'WITH') || (isWord(tokens[w + 1]) && WITH_MODIFIERS.has(tokens[w + 1].value.toUpperCase()))) continue;
      const depth = this.view.enclosing[w];
      const end = this.levelEnds[w];
      let start = w + 1;
      if (isWord(tokens[start], 'RECURSIVE')) start++;
      // Elements up to the SELECT at the clause's level, separated by its commas.
      let k = start;
      let elementStart = start;
      for (; k < end; k++) {
        const t = tokens[k];
        if (isPunct(t, '(')) {
          k = after(this.view, k) - 1;
          continue;
        }
        if (this.view.enclosing[k] !== depth) continue;
        // A second WITH at the level is not ClickHouse; stopping keeps the scan linear.
        if (isWord(t, 'WITH')) break;
        const last = isPunct(t, ',') || isWord(t, 'SELECT');
        if (last) {
          this.defineWithElement(elementStart, k, end);
          elementStart = k + 1;
          if (isWord(t, 'SELECT')) break;
        }
      }
    }
  }

  /** One element of a WITH clause, tokens [s, e): `name AS (SELECT ...)` or `expression AS name`. */
  private defineWithElement(s: number, e: number, scopeEnd: number): void {
    const tokens = this.tokens;
    if (e - s >= 3 && isName(tokens[s]) && isWord(tokens[s + 1], 'AS') && isPunct(tokens[s + 2], '(') && after(this.view, s + 2) === e) {
      if (this.opensSubquery(s + 2)) this.ctes.push({ name: tokens[s].value, from: e, to: scopeEnd });
      return;
    }
    if (e - s >= 3 && isWord(tokens[e - 2], 'AS') && isName(tokens[e - 1])) this.withAliases.push({ name: tokens[e - 1].value, from: e, to: scopeEnd });
  }

  /** Whether the parenthesis at `open` (and any directly inside it) starts a SELECT. */
  private opensSubquery(open: number): boolean {
    let k = open;
    while (isPunct(this.tokens[k], '(')) k++;
    return isWord(this.tokens[k], 'SELECT') || isWord(this.tokens[k], 'WITH');
  }

  /** `ORDER BY x WITH FILL FROM expr`: an unquoted WITH FILL that is not an alias. */
  private isFillFrom(i: number): boolean {
    const t = this.tokens;
    return isWord(t[i - 1], 'FILL') && isWord(t[i - 2], 'WITH') && !isWord(t[i - 3], 'AS');
  }

  /** `ARRAY JOIN expr`: an unquoted ARRAY that is not an alias (`AS array JOIN t` joins t). */
  private isArrayJoin(i: number): boolean {
    return isWord(this.tokens[i - 1], 'ARRAY') && !isWord(this.tokens[i - 2], 'AS');
  }

  /** Inside EXTRACT(... FROM ...), position(... IN ...) and the like, FROM / IN are not tables. */
  private inKeywordArguments(i: number): boolean {
    const open = this.view.enclosing[i];
    const fn = open > 0 ? this.tokens[open - 1] : undefined;
    return fn !== undefined && fn.type === 'word' && KEYWORD_ARGUMENT_FUNCTIONS.has(fn.value.toLowerCase());
  }

  /** A FROM clause: the tables after FROM, after each of its commas and each JOIN, at its level. */
  private checkFromClause(fromIndex: number): void {
    const tokens = this.tokens;
    const depth = this.view.enclosing[fromIndex];
    let clause: Clause = 'FROM';
    let expectTable = true;
    let arrayJoin = false;
    for (let k = fromIndex + 1; k < tokens.length; ) {
      const t = tokens[k];
      if (this.view.enclosing[k] !== depth) break;
      if (expectTable) {
        k = this.checkReference(k, clause);
        expectTable = false;
        continue;
      }
      if (isPunct(t, '(')) {
        k = after(this.view, k);
        continue;
      }
      if (isPunct(t, ',')) {
        // The commas of ARRAY JOIN separate expressions; every other one starts a table.
        expectTable = !arrayJoin;
      } else if (t.type === 'word') {
        const upper = t.value.toUpperCase();
        if (FROM_CLAUSE_END.has(upper)) break;
        if (upper === 'JOIN') {
          arrayJoin = this.isArrayJoin(k);
          expectTable = !arrayJoin;
          clause = 'JOIN';
        } else if (upper === 'USING' && !isPunct(tokens[k + 1], '(')) {
          throw new Refusal('write the columns of USING in parentheses: USING (pod, namespace)');
        }
      }
      k++;
    }
  }

  /** A table reference at token `i`: a subquery or a table name; returns the index after it. */
  private checkReference(i: number, clause: Clause, counted = true): number {
    if (counted) this.count();
    if (!isPunct(this.tokens[i], '(')) return this.checkTableName(i, clause);
    if (!this.opensSubquery(i)) throw new Refusal(`${clause} (...) may hold only a subquery: queries may read only ${this.tableList}`);
    return after(this.view, i);
  }

  /** `x IN t`, `x IN (t)`, `x IN ((db.t))` read table t; `x IN (1, 2)` and `x IN f(...)` are expressions. */
  private checkInOperand(i: number): void {
    const tokens = this.tokens;
    let k = i + 1;
    let opens = 0;
    while (isPunct(tokens[k], '(')) {
      k++;
      opens++;
    }
    if (!isName(tokens[k]) || isPunct(tokens[k + 1], '(')) return;
    const nameEnd = isPunct(tokens[k + 1], '.') && isName(tokens[k + 2]) ? k + 3 : k + 1;
    for (let c = 0; c < opens; c++) if (!isPunct(tokens[nameEnd + c], ')')) return;
    this.count();
    this.checkTableName(k, 'IN');
  }

  private count(): void {
    if (++this.references > MAX_TABLE_REFERENCES) {
      throw new Refusal(`the query reads more than ${MAX_TABLE_REFERENCES} tables: split it into smaller queries`);
    }
  }
}

/**
 * For each token, where its query level ends: the next UNION / EXCEPT / INTERSECT at the level, or
 * the parenthesis closing it, or the end. One pass from the right.
 */
function levelEnds(view: TokenView): number[] {
  const { tokens, enclosing, match } = view;
  const nextSetOperator = new Map<number, number>();
  const ends = new Array<number>(tokens.length);
  for (let k = tokens.length - 1; k >= 0; k--) {
    const depth = enclosing[k];
    ends[k] = nextSetOperator.get(depth) ?? (depth >= 0 ? (match.get(depth) ?? tokens.length) : tokens.length);
    if (isWord(tokens[k]) && SET_OPERATORS.has(tokens[k].value.toUpperCase())) nextSetOperator.set(depth, k);
  }
  return ends;
}
