/** ts-context `records`: a plain waybill and a sealed one, as the fragments about reading them use. */
import type { PlainRecord, SealedRecord, WaybillSchema } from 'waybill-seal';

export declare const record: PlainRecord<WaybillSchema>;
export declare const plainWaybill: PlainRecord<WaybillSchema>;
export declare const sealed: SealedRecord<WaybillSchema>;
