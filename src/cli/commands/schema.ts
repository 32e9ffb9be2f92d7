import { readFile } from 'node:fs/promises';
import { protectedFields } from '../../schema/paths.js';
import { schemaToJson } from '../../schema/from-json.js';
import { parse, UsageError } from '../args.js';
import { builtInSchemaNames, loadSchema } from '../schemas.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE] as const;

export const help = `waybill-seal schema <check|show> [NAME|FILE.json]

Schema files let you seal your own record types without TypeScript: pass one to any command
with --schema FILE.json. Format (JSON Schema for editors: schemas/waybill-seal-schema.json in the
package; reference it with "$schema"):

  { "$schema": "./node_modules/waybill-seal/schemas/waybill-seal-schema.json",
    "name": "parcel", "version": 1, "recordId": "id", "scopeFrom": "createdAt",
    "fields": {
      "id": "string", "createdAt": "date", "weight": "number", "fragile": "boolean?",
      "who":   { "kind": "name", "mask": { "nameStyle": "keepFirstLast" } },
      "phone": "mobile?",
      "addr":  { "kind": "object", "fields": { "city": "string", "detail": "addressDetail" } },
      "items": { "kind": "array", "of": { "kind": "object", "fields": { "sku": "string" } } },
      "note":  { "kind": "text", "optional": true, "keyClass": "note" } },
    "indexes": { "phone": { "field": "phone", "bits": 19 },
                 "phone:last4": { "field": "phone", "transform": "phone-last4", "bits": 9 } },
    "csv": { "columns": { "收件人手机": "phone", "internal_id": "-" } } }

Kinds: string, number, boolean, date (plain); name, mobile, landline, phone, virtualNumber,
idNumber, addressDetail, email, text (protected: sealed and masked); object (fields), array (of: a plain
kind or an object). "kind?" is short for an optional field. name and version are bound into every
ciphertext: keep them when the file changes, or records sealed before no longer open.

  check FILE.json   validate a schema file: ok and a summary, or the JSON path and the reason (exit 1)
  show [NAME]       print a built-in schema (default waybill) as a schema file, to start your own

Examples:
  waybill-seal schema show waybill > my-waybill.json
  waybill-seal schema check parcel.json
  waybill-seal seal --keys keys.json --schema parcel.json --in parcels.csv --out sealed.csv

${exitLine(EXITS)}
1: invalid or unreadable (the message names the JSON path and the reason).`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {});
  const [action, target, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  switch (action) {
    case 'show': {
      const name = target ?? (values['schema'] as string);
      const { schema, columns } = await loadSchema(name);
      process.stdout.write(`${JSON.stringify({ $schema: './node_modules/waybill-seal/schemas/waybill-seal-schema.json', ...schemaToJson(schema, columns) }, null, 2)}\n`);
      return 0;
    }
    case 'check': {
      if (target === undefined) throw new UsageError('schema check takes a schema file: waybill-seal schema check FILE.json');
      // A readable JSON file is required here (a built-in name is not a file to check).
      await readFile(target).catch(() => {
        throw new UsageError(`cannot read schema file ${target}${builtInSchemaNames().includes(target) ? ` ("${target}" is built in: waybill-seal schema show ${target})` : ''}`);
      });
      const { schema, columns } = await loadSchema(target);
      const fields = protectedFields(schema);
      const line = `ok: schema ${schema.name} version ${schema.version}: ${fields.size} protected field(s) (${[...fields.keys()].join(', ')}), ${Object.keys(schema.indexes).length} index(es), ${Object.keys(columns).length} CSV column mapping(s)`;
      if (values['quiet'] !== true) process.stdout.write(`${line}\n`);
      return 0;
    }
    default:
      throw new UsageError(action === undefined ? 'schema needs an action: check or show' : `unknown schema action "${action}"`);
  }
}
