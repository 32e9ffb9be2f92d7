/**
 * The `waybill-seal` command line. Exit codes: 0 ok, 1 usage or configuration error, 2 some lines
 * rejected, 3 a quota or export budget was reached (open), 4 an audit log failed verification.
 */
import { WaybillSealError } from '../errors.js';
import * as audit from './commands/audit.js';
import * as find from './commands/find.js';
import * as inspect from './commands/inspect.js';
import * as keygen from './commands/keygen.js';
import * as keys from './commands/keys.js';
import * as mask from './commands/mask.js';
import * as open from './commands/open.js';
import * as reseal from './commands/reseal.js';
import * as seal from './commands/seal.js';
import * as shred from './commands/shred.js';
import * as token from './commands/token.js';

interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = { keygen, seal, mask, open, inspect, keys, reseal, find, token, audit, shred };

const USAGE = `waybill-seal <command> [options]

Commands:
  keygen    write a new local keyring file
  seal      plain JSONL -> sealed JSONL
  mask      sealed JSONL -> masked JSONL (no keys)
  open      sealed JSONL -> plain JSONL for a principal and purpose, under a policy, audited
  inspect   sealed JSONL -> format, suite and key ids per field (no keys)
  keys      KEK versions: list, rotate, rewrap, retire
  reseal    sealed JSONL -> re-sealed JSONL under new data keys (resumable)
  find      sealed JSONL -> the records whose search index matches a value
  token     print the search token(s) of a value for an index
  audit     verify a tamper-evident audit log
  shred     destroy data keys (retention, crypto-shredding)

Run "waybill-seal <command> --help" for a command's options and examples.
Exit codes: 0 ok, 1 usage or configuration error, 2 some input lines rejected,
3 a quota or export budget was reached (open), 4 an audit log failed verification.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${USAGE}\n`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    const msg = e instanceof WaybillSealError ? e.message : 'unexpected internal error';
    process.stderr.write(`waybill-seal ${name}: ${msg}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
