// Who may use the SQL endpoint: a request naming a loopback host (or SQL_HOST), not sent by a
// browser page of another origin, carrying the endpoint's token.
//
// The Host check stops DNS rebinding: a web page whose name is made to resolve to 127.0.0.1 reaches
// the endpoint with its own name in Host. The Origin and Sec-Fetch-Site checks stop a page of
// another origin posting to it. The token stops every other local process and user.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ReadError } from './errors.ts';

type Headers = Record<string, string | string[] | undefined>;

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '::1']);
const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '']);

/** The host name of a Host header or an origin's authority: without port, IPv6 without brackets, lower case. */
export function hostName(authority: string): string {
  const text = authority.trim().toLowerCase();
  if (text.startsWith('[')) return text.slice(1, text.indexOf(']') > 0 ? text.indexOf(']') : undefined);
  const colon = text.indexOf(':');
  return colon >= 0 && text.indexOf(':', colon + 1) < 0 ? text.slice(0, colon) : text;
}

/** The names a request may address the endpoint by: loopback, and SQL_HOST when it is an address of its own. */
export function allowedHosts(sqlHost: string): ReadonlySet<string> {
  const own = hostName(sqlHost.includes(':') && !sqlHost.startsWith('[') ? `[${sqlHost}]` : sqlHost);
  return WILDCARDS.has(own) ? LOOPBACK_NAMES : new Set([...LOOPBACK_NAMES, own]);
}

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The refusal of a request, or undefined when it may query. */
export function checkSqlAccess(headers: Headers, access: { token: string; hosts: ReadonlySet<string> }): ReadError | undefined {
  const host = single(headers.host);
  if (host === undefined || !access.hosts.has(hostName(host))) {
    return new ReadError('host-refused', `the SQL endpoint answers only requests addressed to ${[...access.hosts].join(', ')}, not ${JSON.stringify(host ?? '')}`);
  }
  const site = single(headers['sec-fetch-site']);
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return new ReadError('cross-origin', 'the SQL endpoint does not answer requests of web pages from other sites');
  }
  const origin = single(headers.origin);
  if (origin !== undefined && !isAllowedOrigin(origin, access.hosts)) {
    return new ReadError('cross-origin', `the SQL endpoint does not answer requests of web pages (Origin ${JSON.stringify(origin)})`);
  }
  const authorization = single(headers.authorization);
  if (authorization === undefined || authorization === '') {
    return new ReadError('auth-missing', 'send Authorization: Bearer <token>: SQL_TOKEN, or the token in DATA_DIR/sql-token (npm run sql reads it by itself)');
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  // Compared as digests: equal lengths, constant time.
  if (!match || !timingSafeEqual(digest(match[1]), digest(access.token))) {
    return new ReadError('auth-invalid', 'the token is not the SQL endpoint token (SQL_TOKEN, or DATA_DIR/sql-token)');
  }
  return undefined;
}

function isAllowedOrigin(origin: string, hosts: ReadonlySet<string>): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && hosts.has(hostName(url.host));
  } catch {
    return false;
  }
}
