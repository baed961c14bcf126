// `npm run -s tenants -- add <id>`: generates a bearer token for a tenant, prints it once and stores
// only its SHA-256 in the tenants file. `add-basic <id> <username>` does the same for a password,
// `add-reader <id>` for a read token, `rotate` replaces a named credential's secret, `revoke`
// removes it, `list` shows tenants and their credentials' names. The running service picks the
// change up by itself (it watches the file's directory), or at once on SIGHUP (`kill -HUP <pid>`).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basicUsernameProblem, isValidTokenName, parseTenantsFile, sha256, TenantsFileError, type TenantsFile } from '../receiver/tenants-file.ts';
import { isValidTenant } from '../receiver/tenant.ts';
import { readLimits } from '../query/limits.ts';
import { tenantSqlUserStatements } from '../query/tenant-sql-user.ts';
import { ConfigError, loadConfig } from '../service/config.ts';
import { allNames, findCredential, listedNames, unusedName } from './tenant-credentials.ts';

const USAGE = `usage: npm run -s tenants -- <command> [--file PATH]
  add <tenant-id> [token-name]        new bearer token to write (remote write); tenant created if missing
  add-basic <tenant-id> <user>        new basic-auth password to write
  add-reader <tenant-id> [token-name] new bearer token to read (the allocation API)
  rotate <tenant-id> <token-name>     new secret for a named token (or basic user); the old one stops working
  revoke <tenant-id> <token-name>     removes a named token (or basic user)
  list                                tenants and the names of their credentials (never secrets)
  sql-user <tenant-id> <user>         statements giving the tenant a read-only user of a ClickHouse server,
                                      restricted to its rows (stdout); its new password on stderr
The file is TENANTS_FILE unless --file is given.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function load(path: string): TenantsFile {
  if (!existsSync(path)) return { tenants: [] };
  return parseTenantsFile(readFileSync(path, 'utf8'), path);
}

/** Written to a temporary file and renamed, so the service never reads a half-written file. */
function save(path: string, file: TenantsFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function tenantEntry(file: TenantsFile, id: string) {
  if (!isValidTenant(id)) fail(`"${id}" is not a valid tenant id: 1 to 150 characters of letters, digits, '.', '_' or '-'`);
  let entry = file.tenants.find((t) => t.id === id);
  if (!entry) file.tenants.push((entry = { id, tokens_sha256: [], basic: [], read_tokens_sha256: [], read_basic: [] }));
  return entry;
}

function existingTenant(file: TenantsFile, id: string) {
  return file.tenants.find((t) => t.id === id) ?? fail(`no tenant "${id}" in the file`);
}

function tokenName(entry: ReturnType<typeof tenantEntry>, given: string | undefined, prefix: string): string {
  if (given === undefined) return unusedName(entry, prefix);
  if (!isValidTokenName(given)) fail(`"${given}" is not a valid token name: 1 to 64 letters, digits, '.', '_' or '-'`);
  if (allNames(entry).includes(given)) fail(`tenant ${entry.id} already has a credential named "${given}"`);
  return given;
}

/** Prints a new secret once, and says where its hash went. */
function shown(secret: string, what: string): void {
  process.stdout.write(`${secret}\n`);
  process.stderr.write(`${what}; the secret is shown only now\n`);
}

/** Needs no tenants file: the statements go to ClickHouse, the password to the tenant. */
function sqlUser(args: string[]): void {
  if (args.length !== 2) fail(USAGE);
  if (!isValidTenant(args[0])) fail(`"${args[0]}" is not a valid tenant id`);
  if (!/^[A-Za-z0-9_]{1,64}$/.test(args[1])) fail(`"${args[1]}" is not a valid ClickHouse user name here: 1 to 64 letters, digits or '_'`);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const password = randomBytes(24).toString('base64url');
  const statements = tenantSqlUserStatements({ tenant: args[0], user: args[1], passwordSha256: sha256(password).toString('hex'), database: config.CLICKHOUSE_DATABASE, limits: readLimits(config) });
  process.stdout.write(statements.map((sql) => `${sql};\n`).join(''));
  process.stderr.write(`password of ClickHouse user ${args[1]} (tenant ${args[0]}), shown only now: ${password}\nrun the statements above as an administrator, e.g. | clickhouse client --multiquery\n`);
}

function main(argv: string[]): void {
  if (argv[0] === 'sql-user') return sqlUser(argv.slice(1));
  const fileFlag = argv.indexOf('--file');
  const path = fileFlag >= 0 ? argv[fileFlag + 1] : process.env.TENANTS_FILE;
  const args = fileFlag >= 0 ? argv.filter((_, i) => i !== fileFlag && i !== fileFlag + 1) : argv;
  if (!path) fail(`set TENANTS_FILE or pass --file PATH\n${USAGE}`);
  const [command, ...rest] = args;
  try {
    const file = load(path);
    switch (command) {
      case 'add':
      case 'add-reader': {
        if (rest.length < 1 || rest.length > 2) fail(USAGE);
        const reads = command === 'add-reader';
        const entry = tenantEntry(file, rest[0]);
        const name = tokenName(entry, rest[1], reads ? 'read' : 'write');
        const token = randomBytes(32).toString('base64url');
        (reads ? entry.read_tokens_sha256 : entry.tokens_sha256).push({ name, sha256: sha256(token).toString('hex') });
        save(path, file);
        shown(token, `stored the hash of ${reads ? 'read' : 'write'} token "${name}" of tenant ${rest[0]} in ${path}`);
        return;
      }
      case 'rotate':
      case 'revoke': {
        if (rest.length !== 2) fail(USAGE);
        const entry = existingTenant(file, rest[0]);
        const found = findCredential(entry, rest[1]) ?? fail(`tenant ${rest[0]} has no credential named "${rest[1]}" (list shows the names)`);
        if (command === 'revoke') {
          found.remove();
          save(path, file);
          process.stderr.write(`revoked ${found.describe} of tenant ${rest[0]} in ${path}; send SIGHUP to the service (kill -HUP <pid>) to apply\n`);
          return;
        }
        const secret = randomBytes(found.basic ? 24 : 32).toString('base64url');
        found.replace(sha256(secret).toString('hex'));
        save(path, file);
        shown(secret, `rotated ${found.describe} of tenant ${rest[0]} in ${path}, the old secret stops working at the service's next SIGHUP`);
        return;
      }
      case 'add-basic': {
        if (rest.length !== 2) fail(USAGE);
        const problem = basicUsernameProblem(rest[1]);
        if (problem) fail(problem);
        const entry = tenantEntry(file, rest[0]);
        if (file.tenants.some((t) => t.basic.some((b) => b.username === rest[1]))) fail(`username "${rest[1]}" already exists`);
        const password = randomBytes(24).toString('base64url');
        entry.basic.push({ username: rest[1], password_sha256: sha256(password).toString('hex') });
        save(path, file);
        process.stdout.write(`${password}\n`);
        process.stderr.write(`stored the password's hash for ${rest[1]} (tenant ${rest[0]}) in ${path}; the password is shown only now\n`);
        return;
      }
      case 'list':
        for (const t of file.tenants) {
          const names = listedNames(t);
          process.stdout.write(`${t.id}\twrite=${names.write.join(',')}\tread=${names.read.join(',')}\n`);
        }
        return;
      default:
        fail(USAGE);
    }
  } catch (err) {
    if (err instanceof TenantsFileError) fail(err.message);
    throw err;
  }
}

main(process.argv.slice(2));
