/**
 * npx tsx examples/seal-and-print.ts [--out DIR]
 *
 * Seals one waybill at intake, then prints its label the way a label service would: from the
 * stored `label` masks alone, with no key. Writes a 100 × 150 mm SVG label and prints its path,
 * followed by a text rendering of the same label.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createSealer, generateLocalKeyMaterial, LocalKeyring, mask, MemoryKeyStore, waybill, type PlainRecord, type WaybillSchema } from 'waybill-seal';
import { labelFileName } from './label/cli.js';
import { renderLabelSvg } from './label/render.js';
import { renderTextLabel } from './label-text.js';

const say = (s = '') => process.stdout.write(`${s}\n`);

/** Synthetic values (valid formats, nobody's data). */
const intake: PlainRecord<WaybillSchema> = {
  waybillNo: 'WS202503010042',
  orderId: 'TB2025030100042',
  createdAt: '2025-03-01T08:30:00+08:00',
  sender: {
    name: '张三丰',
    mobile: '13812345678',
    idType: 'resident',
    idNumber: '11010519491231002X',
    address: { province: '广东省', city: '深圳市', district: '南山区', town: '粤海街道', detail: '科技园路1号3栋2单元501室' },
  },
  receiver: {
    name: '欧阳娜娜',
    mobile: '13987654321',
    virtualNumber: { main: '17012345678', ext: '4321' },
    address: { province: '浙江省', city: '杭州市', district: '西湖区', town: '文新街道', detail: '文一西路969号5-2-301' },
  },
  items: [
    { name: '书籍', quantity: 2 },
    { name: '茶叶', quantity: 1 },
  ],
  weightGrams: 1200,
  remark: '请放门口，勿打电话',
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
  const out = values.out ? resolve(values.out) : await mkdtemp(join(tmpdir(), 'waybill-seal-label-'));
  await mkdir(out, { recursive: true });

  const sealer = createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial()), keyStore: new MemoryKeyStore() });
  try {
    const sealed = await sealer.seal(waybill, intake);
    say(`Sealed waybill ${sealed.waybillNo}: names, phones, ID number, address detail and remark are ciphertext + masks.`);

    // The label service: no keyring, only the sealed record's stored label masks.
    const label = mask(waybill, sealed, 'label');
    const file = join(out, labelFileName(label.waybillNo));
    await writeFile(file, renderLabelSvg(label));
    say(`Label (100 × 150 mm SVG): ${file}`);
    say();
    say(renderTextLabel(label));
  } finally {
    sealer.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`seal-and-print failed: ${e instanceof Error ? `${e.name}: ${e.message}` : 'unknown error'}\n`);
  process.exitCode = 1;
});
