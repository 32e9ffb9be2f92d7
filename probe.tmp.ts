import { jobSchema, workload } from './bench/workload.js';
import { createSealer, LocalKeyring, MemoryKeyStore, generateLocalKeyMaterial } from './src/index.js';
import { useNativeCrypto } from './src/crypto/backend-load.js';
useNativeCrypto((await import('./src/crypto/backend-node.js')).backend);
const mk = (integrity: boolean) => createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial()), keyStore: new MemoryKeyStore(), guard: 'allow-all', ...(integrity ? {} : { integrity: false }) });
const on = mk(true), off = mk(false);
const recs = workload(2000);
let i = 0;
async function best(name: string, f: () => Promise<unknown>, n = 2000) { let b = 1e9; for (let r = 0; r < 8; r++) { const c = process.cpuUsage(); for (let k = 0; k < n; k++) await f(); const d = process.cpuUsage(c); b = Math.min(b, (d.user + d.system) / n); } console.log(name, b.toFixed(2), 'µs cpu'); }
for (let r = 0; r < 2; r++) {
await best('seal on', () => on.seal(jobSchema, recs[i++ % 2000]));
await best('seal off', () => off.seal(jobSchema, recs[i++ % 2000]));
}
