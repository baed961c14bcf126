// The token view the read-only guard works on: the significant tokens of one statement, the matching
// parenthesis of each, and the innermost parenthesis around each token, so the guard can tell which
// tokens sit at the same level of a query. Everything here is a loop: a query of 100,000 characters
// may hold tens of thousands of tokens, and no check may recurse per token.
import type { Token } from '../processor/clickhouse/sql-tokens.ts';

/** Why a query is refused; the message is shown to the user as it is. */
export class Refusal extends Error {}

export interface TokenView {
  readonly tokens: readonly Token[];
  /** Index of the matching parenthesis, for both ends. */
  readonly match: ReadonlyMap<number, number>;
  /** Index of the innermost `(` around each token (for a `(` or `)`: the one around the pair), or -1. */
  readonly enclosing: readonly number[];
}

export const isWord = (t: Token | undefined, upper?: string): boolean =>
  t !== undefined && t.type === 'word' && (upper === undefined || t.value.toUpperCase() === upper);
export const isName = (t: Token | undefined): boolean => t !== undefined && (t.type === 'word' || t.type === 'quoted');
export const isPunct = (t: Token | undefined, p: string): boolean => t !== undefined && t.type === 'punct' && t.value === p;

export function tokenView(tokens: readonly Token[]): TokenView {
  const match = new Map<number, number>();
  const enclosing: number[] = [];
  const stack: number[] = [];
  tokens.forEach((t, i) => {
    if (isPunct(t, ')')) {
      const open = stack.pop();
      if (open === undefined) throw new Refusal(`unbalanced ")" at position ${t.start + 1}`);
      match.set(open, i).set(i, open);
    }
    enclosing.push(stack.at(-1) ?? -1);
    if (isPunct(t, '(')) stack.push(i);
  });
  if (stack.length > 0) throw new Refusal(`unbalanced "(" at position ${tokens[stack[0]].start + 1}`);
  return { tokens, match, enclosing };
}

/** The index after the parenthesized group opening at `open`. */
export function after(view: TokenView, open: number): number {
  return (view.match.get(open) ?? view.tokens.length - 1) + 1;
}
