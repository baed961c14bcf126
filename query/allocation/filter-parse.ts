// OpenCost's filter language (core/pkg/filter/ast: lexer.go, parser.go), for the fields our rows
// carry. Grammar:
//   filter     ::= element (('+' | '|') element)*      one operator per level: mixing needs ( )
//   element    ::= '(' filter ')' | comparison
//   comparison ::= field ['[' key ']'] op '"' value '"' (',' '"' value '"')*
//   op         ::= ':' | '!:' | '~:' | '!~:' | '<~:' | '!<~:' | '~>:' | '!~>:'
// '+' is AND, '|' is OR. Several values of one comparison are ORed (ANDed for the negated ops).
// `:` is equality; `~:` contains, `<~:` starts with, `~>:` ends with; `!` negates. The value
// "__unallocated__" means empty. `label:"app"` (no key) tests that the label exists. Values are
// taken as written, up to the next double quote; label keys are sanitised like label names.
import { ParameterError, shorten } from './parameter-error.ts';
import { sanitizeLabelName } from './aggregate.ts';
import { UNALLOCATED } from '../sharing/sharing-sql.ts';

export type FilterField = 'cluster' | 'node' | 'namespace' | 'controllerKind' | 'controllerName' | 'pod' | 'label';
export type FilterMatch = 'equals' | 'contains' | 'prefix' | 'suffix';

export type FilterNode =
  | { type: 'all' }
  | { type: 'and' | 'or'; operands: FilterNode[] }
  | { type: 'not'; operand: FilterNode }
  | { type: 'compare'; field: FilterField; key?: string; match: FilterMatch; value: string };

const FIELDS: Record<string, FilterField> = {
  cluster: 'cluster',
  node: 'node',
  namespace: 'namespace',
  controllerKind: 'controllerKind',
  controllerName: 'controllerName',
  // Not in OpenCost's parser; accepted because the property is named `controller`.
  controller: 'controllerName',
  pod: 'pod',
  label: 'label',
};

const UNSUPPORTED_FIELDS = ['container', 'provider', 'accountID', 'services', 'annotation', 'nodeLabel', 'namespaceLabel', 'department', 'environment', 'owner', 'product', 'team'];

const OPS: Record<string, { match: FilterMatch; negated: boolean }> = {
  ':': { match: 'equals', negated: false },
  '!:': { match: 'equals', negated: true },
  '~:': { match: 'contains', negated: false },
  '!~:': { match: 'contains', negated: true },
  '<~:': { match: 'prefix', negated: false },
  '!<~:': { match: 'prefix', negated: true },
  '~>:': { match: 'suffix', negated: false },
  '!~>:': { match: 'suffix', negated: true },
};

const MAX_FILTER_LENGTH = 8192;
const MAX_DEPTH = 32;
const MAX_VALUES = 256;

type TokenKind = 'op' | 'comma' | 'and' | 'or' | 'open' | 'close' | 'string' | 'key' | 'word' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  at: number;
}

const IDENTIFIER_CHAR = /[\p{L}\p{N}_-]/u;

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new ParameterError(`at position ${i + 1}: ${why}`);
  };
  while (i < source.length) {
    const c = source[i];
    if (' \t\n\r'.includes(c)) {
      i++;
      continue;
    }
    const op = ['!<~:', '!~>:', '!~:', '<~:', '~>:', '!:', '~:', ':'].find((o) => source.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, at: i });
      i += op.length;
    } else if (c === ',' || c === '+' || c === '|' || c === '(' || c === ')') {
      const kinds: Record<string, TokenKind> = { ',': 'comma', '+': 'and', '|': 'or', '(': 'open', ')': 'close' };
      tokens.push({ kind: kinds[c], text: c, at: i++ });
    } else if (c === '"' || c === '[') {
      const close = source.indexOf(c === '"' ? '"' : ']', i + 1);
      if (close === -1) fail(c === '"' ? 'unterminated string' : 'unterminated [key]');
      tokens.push({ kind: c === '"' ? 'string' : 'key', text: source.slice(i + 1, close), at: i });
      i = close + 1;
    } else if (IDENTIFIER_CHAR.test(c)) {
      const start = i;
      while (i < source.length && IDENTIFIER_CHAR.test(source[i])) i++;
      tokens.push({ kind: 'word', text: source.slice(start, i), at: start });
    } else {
      fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}

/** The filter's tree; an empty filter matches everything. Throws ParameterError saying where and why. */
export function parseFilter(source: string | undefined): FilterNode {
  if (source === undefined || source.trim() === '') return { type: 'all' };
  if (source.length > MAX_FILTER_LENGTH) throw new ParameterError(`longer than ${MAX_FILTER_LENGTH} characters`);
  return new Parser(lex(source)).parse();
}

class Parser {
  private next = 0;
  private values = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): FilterNode {
    const node = this.group(0);
    const extra = this.peek();
    if (extra.kind !== 'end') this.fail(extra, extra.kind === 'close' ? "')' without a matching '('" : `unexpected ${describe(extra)}`);
    return node;
  }

  private group(depth: number): FilterNode {
    if (depth > MAX_DEPTH) this.fail(this.peek(), `nested deeper than ${MAX_DEPTH} levels`);
    const first = this.element(depth);
    const op = this.peek();
    if (op.kind !== 'and' && op.kind !== 'or') return first;
    const operands = [first];
    while (this.peek().kind === op.kind) {
      this.next++;
      operands.push(this.element(depth));
    }
    const other = this.peek();
    if (other.kind === 'and' || other.kind === 'or') this.fail(other, `'+' and '|' cannot be mixed at one level: add parentheses`);
    return { type: op.kind, operands };
  }

  private element(depth: number): FilterNode {
    if (this.peek().kind !== 'open') return this.comparison();
    this.next++;
    const node = this.group(depth + 1);
    this.expect('close', "')' to close '('");
    return node;
  }

  private comparison(): FilterNode {
    const fieldToken = this.expect('word', 'a field like namespace, cluster or label[app]');
    const field = FIELDS[fieldToken.text];
    if (!field) {
      const why = UNSUPPORTED_FIELDS.includes(fieldToken.text)
        ? `${fieldToken.text} is not supported: rows carry none`
        : `unknown field ${JSON.stringify(shorten(fieldToken.text))}: use cluster, node, namespace, controllerKind, controllerName, pod or label[name]`;
      this.fail(fieldToken, why);
    }
    let key: string | undefined;
    if (this.peek().kind === 'key') {
      const keyToken = this.tokens[this.next++];
      if (field !== 'label') this.fail(keyToken, `${fieldToken.text} takes no [key]`);
      key = sanitizeLabelName(keyToken.text);
      if (key === '') this.fail(keyToken, 'empty label name');
    }
    const { match, negated } = OPS[this.expect('op', "an operator like ':' or '!:'").text];
    const values = [this.value()];
    while (this.peek().kind === 'comma') {
      this.next++;
      values.push(this.value());
    }
    const compares: FilterNode[] = values.map((value) => {
      const compare: FilterNode = { type: 'compare', field, key, match, value: value === UNALLOCATED ? '' : value };
      if (key === undefined) delete compare.key;
      return negated ? { type: 'not', operand: compare } : compare;
    });
    if (compares.length === 1) return compares[0];
    return { type: negated ? 'and' : 'or', operands: compares };
  }

  private value(): string {
    if (++this.values > MAX_VALUES) this.fail(this.peek(), `more than ${MAX_VALUES} values`);
    return this.expect('string', 'a quoted value like "kube-system"').text;
  }

  private peek(): Token {
    return this.tokens[this.next];
  }

  private expect(kind: TokenKind, what: string): Token {
    const token = this.peek();
    if (token.kind !== kind) this.fail(token, `expected ${what}, found ${describe(token)}`);
    this.next++;
    return token;
  }

  private fail(token: Token, why: string): never {
    throw new ParameterError(`at position ${token.at + 1}: ${why}`);
  }
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end';
  if (token.kind === 'string') return `"${shorten(token.text, 30)}"`;
  return JSON.stringify(shorten(token.text, 30));
}
