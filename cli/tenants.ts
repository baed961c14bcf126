// `npm run -s tenants -- add <id>`: generates a bearer token for a tenant, prints it once and stores
// only its SHA-256 in the tenants file. `add-basic <id> <username>` does the same for a password,
// `list` shows tenants and how many credentials each has. The running service picks the change up
// by itself (it watches the file's directory), or at once on SIGHUP (`kill -HUP <pid>`).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseTenantsFile, sha256, TenantsFileError, type TenantsFile } from '../receiver/tenants-file.ts';
import { isValidTenant } from '../receiver/tenant.ts';

const USAGE = `usage: npm run -s tenants -- <command> [--file PATH]
  add <tenant-id>                 new bearer token for the tenant (created if missing)
  add-basic <tenant-id> <user>    new basic-auth password for the tenant
  list                            tenants and their credential counts
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
  if (!entry) file.tenants.push((entry = { id, tokens_sha256: [], basic: [] }));
  return entry;
}

function main(argv: string[]): void {
  const fileFlag = argv.indexOf('--file');
  const path = fileFlag >= 0 ? argv[fileFlag + 1] : process.env.TENANTS_FILE;
  const args = fileFlag >= 0 ? argv.filter((_, i) => i !== fileFlag && i !== fileFlag + 1) : argv;
  if (!path) fail(`set TENANTS_FILE or pass --file PATH\n${USAGE}`);
  const [command, ...rest] = args;
  try {
    const file = load(path);
    switch (command) {
      case 'add': {
        if (rest.length !== 1) fail(USAGE);
        const token = randomBytes(32).toString('base64url');
        tenantEntry(file, rest[0]).tokens_sha256.push(sha256(token).toString('hex'));
        save(path, file);
        process.stdout.write(`${token}\n`);
        process.stderr.write(`stored the token's hash for tenant ${rest[0]} in ${path}; the token is shown only now\n`);
        return;
      }
      case 'add-basic': {
        if (rest.length !== 2) fail(USAGE);
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
        for (const t of file.tenants) process.stdout.write(`${t.id}\ttokens=${t.tokens_sha256.length}\tbasic=${t.basic.map((b) => b.username).join(',')}\n`);
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
