import { describe, expect, it } from 'vitest';
import { significantTokens, splitStatements, SqlSyntaxError, tokenize } from '../../../../processor/clickhouse/sql-tokens.ts';

const kinds = (sql: string) => significantTokens(sql).map((t) => `${t.type}:${t.value}`);

describe('tokenize', () => {
  it('reads words, numbers, punctuation, strings and quoted identifiers', () => {
    expect(kinds("SELECT a.b, 'x''y', `q``r`, \"s\"\"t\", 1.5e-3 FROM t")).toEqual([
      'word:SELECT', 'word:a', 'punct:.', 'word:b', 'punct:,', "string:x'y", 'punct:,', 'quoted:q`r', 'punct:,', 'quoted:s"t',
      'punct:,', 'number:1.5e-3', 'word:FROM', 'word:t',
    ]);
  });

  it('unescapes backslashes in strings', () => {
    expect(kinds("'a\\'b\\\\'")).toEqual(["string:a'b\\"]);
  });

  it('keeps comments as tokens: --, # and nested /* */', () => {
    const tokens = tokenize('a -- one\nb # two\nc /* x /* y */ z */ d');
    expect(tokens.filter((t) => t.type === 'comment').map((t) => t.text)).toEqual(['-- one', '# two', '/* x /* y */ z */']);
    expect(tokens.filter((t) => t.type !== 'comment').map((t) => t.value)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('records positions', () => {
    expect(tokenize('  SELECT x').map((t) => [t.start, t.end])).toEqual([[2, 8], [9, 10]]);
  });

  it.each([
    ["'abc", /unterminated string at position 1/],
    ['`abc', /unterminated quoted identifier/],
    ['/* a /* b */', /unterminated comment/],
    ['$$x$$', /unexpected character "\$"/],
    ['a\\b', /unexpected character "\\\\"/],
    ['1abc', /a number followed by a letter/],
    ['`a\\`', /backslash in a quoted identifier/],
  ])('refuses %j', (sql, message) => {
    expect(() => tokenize(sql)).toThrow(SqlSyntaxError);
    expect(() => tokenize(sql)).toThrow(message);
  });
});

describe('splitStatements', () => {
  it('splits at top-level semicolons only', () => {
    const sql = "-- header\nCREATE TABLE a (s String DEFAULT ';');\n/* ; */ CREATE VIEW b AS SELECT ';' -- ;\n;\n\n;";
    expect(splitStatements(sql)).toEqual(["CREATE TABLE a (s String DEFAULT ';')", "CREATE VIEW b AS SELECT ';'"]);
  });

  it('keeps a last statement without a semicolon', () => {
    expect(splitStatements('SELECT 1; SELECT 2')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('returns nothing for comments only', () => {
    expect(splitStatements('-- nothing\n/* here */')).toEqual([]);
  });
});
