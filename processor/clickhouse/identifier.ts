// Names interpolated into SQL (databases) must be plain identifiers.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkIdentifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) throw new TypeError(`${what} must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got ${JSON.stringify(name)}`);
  return name;
}
