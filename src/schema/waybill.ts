/**
 * The built-in e-waybill schema, shaped like carrier APIs (Cainiao, JD, PDD): names, phones,
 * ID numbers, the address detail and the remark are protected; routing fields stay plain
 * because sorting centres route on them.
 */
import { s } from './builder.js';
import { defineSchema } from './schema.js';

const address = () =>
  s.object({
    country: s.string().optional(),
    province: s.string(),
    city: s.string(),
    district: s.string(),
    town: s.string().optional(),
    detail: s.addressDetail(),
    postcode: s.string().optional(),
  });

export const waybill = defineSchema(
  'waybill',
  1,
  {
    waybillNo: s.string(),
    orderId: s.string().optional(),
    createdAt: s.date(),
    sender: s.object({
      name: s.name(),
      mobile: s.mobile().optional(),
      landline: s.landline().optional(),
      idType: s.string().optional(),
      idNumber: s.idNumber().optional(),
      address: address(),
    }),
    receiver: s.object({
      name: s.name(),
      mobile: s.mobile().optional(),
      landline: s.landline().optional(),
      virtualNumber: s.virtualNumber().optional(),
      address: address(),
    }),
    items: s.array(s.object({ name: s.string(), quantity: s.number() })),
    weightGrams: s.number(),
    remark: s.text().optional(),
  },
  { recordId: 'waybillNo' },
);

export type WaybillSchema = typeof waybill;
