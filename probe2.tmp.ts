import { jobSchema, workload } from './bench/workload.js';
import { createSealer, LocalKeyring, MemoryKeyStore, generateLocalKeyMaterial } from './src/index.js';
import { useNativeCrypto } from './src/crypto/backend-load.js';
useNativeCrypto((await import('./src/crypto/backend-node.js')).backend);
const on = createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial()), keyStore: new MemoryKeyStore(), guard: 'allow-all' });
const recs = workload(2000);
let i = 0;
for (let k = 0; k < 20000; k++) await on.seal(jobSchema, recs[i++ % 2000]);
