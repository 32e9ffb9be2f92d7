/**
 * The `waybill-seal` command line. Exit codes are defined in one place: `./exit.ts`.
 */
import { WaybillSealError } from '../errors.js';
import { osCause } from '../node/file-writes.js';
import * as audit from './commands/audit.js';
import * as convert from './commands/convert.js';
import * as find from './commands/find.js';
import * as inspect from './commands/inspect.js';
import * as keygen from './commands/keygen.js';
import * as keys from './commands/keys.js';
import * as mask from './commands/mask.js';
import * as migrate from './commands/migrate.js';
import * as open from './commands/open.js';
import * as reseal from './commands/reseal.js';
import * as schema from './commands/schema.js';
import * as seal from './commands/seal.js';
import * as shred from './commands/shred.js';
import * as token from './commands/token.js';
import * as verify from './commands/verify.js';
import { backendLine } from './commands/shared.js';
import { EXIT, EXIT_CODES_TEXT } from './exit.js';
import { installPhoneMetadata } from './phone.js';
import { OutputClosedError } from './pipeline.js';

installPhoneMetadata();

// A reader that closes stdout early (`| head`) ends the run quietly with exit 0. The bulk pipeline
// stops reading on its own (OutputClosedError); this listener keeps other commands' late writes from
// crashing on EPIPE.
let stdoutClosed = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') stdoutClosed = true;
});

interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = { keygen, seal, mask, open, inspect, keys, reseal, find, token, audit, shred, convert, schema, verify, migrate };

const USAGE = `waybill-seal <command> [options]

Commands:
  keygen    write a new local keyring file
  seal      plain records -> sealed records
  mask      sealed records -> masked records (no keys)
  open      sealed records -> plain records for a principal and purpose, under a policy, audited
  inspect   sealed records -> format, suite and key ids per field (no keys)
  verify    sealed records -> tag or signature check per record (public keys or the integrity
            secret; decrypts nothing)
  keys      KEK versions: list, rotate, rewrap, retire; export-verify (public keys for printers)
  reseal    sealed JSONL -> re-sealed JSONL under new data keys (resumable)
  find      sealed records -> the records whose search index matches a value
  token     print the search token(s) of a value for an index
  audit     verify or repair (torn last line) a tamper-evident audit log, or verify the shared
            audit table in PostgreSQL (--database)
  migrate   seal or re-seal a PostgreSQL table in place, chunked over any number of worker processes
  shred     destroy data keys (retention, crypto-shredding)
  convert   JSON Lines <-> CSV for records of a schema (no keys)
  schema    check a schema file, or print a built-in schema as one

Bulk commands (seal, open, mask, find, inspect, convert) read and write JSON Lines or CSV
(--format jsonl|csv, --in-format/--out-format, --map COL=PATH), stream with back-pressure, take
--jobs N (worker threads; output order = input order), --rejects FILE, --quiet and
--json-progress, and draw a progress bar on stderr when it is a terminal. Every command takes
--help; --keys names the key file and --schema a built-in schema (waybill) or a schema file.

Examples:
  waybill-seal keygen --out keys.json
  waybill-seal seal --keys keys.json --jobs auto --in waybills.csv --out sealed.csv --rejects bad.jsonl
  waybill-seal mask --profile label --in sealed.csv --out labels.csv
  waybill-seal open --keys keys.json --principal cs-4 --purpose customer-service --ticket T-1 --in one.jsonl
  waybill-seal schema check parcel.json && waybill-seal seal --keys keys.json --schema parcel.json < parcels.jsonl

Run "waybill-seal <command> --help" for a command's options and examples.

${EXIT_CODES_TEXT}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n\n${await backendLine()}\n`);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${USAGE}\n`);
    return EXIT.USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return EXIT.OK;
  }
  try {
    const code = await command.run(rest);
    return stdoutClosed ? EXIT.OK : code;
  } catch (e) {
    if (e instanceof OutputClosedError || stdoutClosed) return EXIT.OK;
    // An OS error that no layer turned into a FileError still names its cause and file.
    const os = e as NodeJS.ErrnoException;
    const msg = e instanceof WaybillSealError ? e.message : osCause(e) ? `${osCause(e)}${os.syscall ? ` (${os.syscall}${os.path ? ` ${os.path}` : ''})` : ''}` : 'unexpected internal error';
    process.stderr.write(`waybill-seal ${name}: ${msg}\n`);
    return EXIT.USAGE;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
