// How SQL builders of the read side put values into a query. A request's values (tenant, filter
// values, label names, namespaces, times) only ever travel as bound parameters ({v0:String}), so no
// text a user sends becomes SQL. Literals exist for one purpose: rendering the same builders into
// the documented recipes of COOKBOOK.md, whose values are our own constants.

export interface SqlValues {
  /** A String value. */
  string(value: string): string;
  /** An Array(String) value. */
  strings(values: readonly string[]): string;
  /** A whole number (UInt32 range: epoch seconds, step lengths). */
  uint(value: number): string;
}

const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Collects bound parameters for one query; `params` goes to the client's `query_params`. */
export class BoundValues implements SqlValues {
  readonly params: Record<string, unknown> = {};
  private next = 0;

  string(value: string): string {
    return this.bind('String', value);
  }

  strings(values: readonly string[]): string {
    return this.bind('Array(String)', [...values]);
  }

  uint(value: number): string {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a UInt32: ${value}`);
    return this.bind('UInt32', value);
  }

  /** A parameter under a fixed name (e.g. `tenant`), so queries read well in logs. */
  named(name: string, type: 'String' | 'UInt32', value: string | number): string {
    if (!PARAMETER_NAME.test(name) || /^v\d+$/.test(name)) throw new TypeError(`bad parameter name ${name}`);
    if (name in this.params) throw new TypeError(`parameter ${name} bound twice`);
    this.params[name] = value;
    return `{${name}:${type}}`;
  }

  private bind(type: string, value: unknown): string {
    const name = `v${this.next++}`;
    this.params[name] = value;
    return `{${name}:${type}}`;
  }
}

/** A ClickHouse string literal: backslashes and quotes escaped. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Values written into the SQL text: for documentation only, never for a request's values. */
export const literalValues: SqlValues = {
  string: quoteLiteral,
  strings: (values) => `[${values.map(quoteLiteral).join(', ')}]`,
  uint(value) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`not a UInt32: ${value}`);
    return String(value);
  },
};
