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
    /**
     * Who handles the waybill (plain: sorting and access scopes use it): the origin and
     * destination outlets and the delivery route. Optional, so records sealed before it validate.
     */
    routing: s
      .object({
        originOutlet: s.string().optional(),
        destOutlet: s.string().optional(),
        routeId: s.string().optional(),
      })
      .optional(),
  },
  {
    recordId: 'waybillNo',
    // What a sorting centre routes on and a label shows in clear: the record tag covers it, so a
    // changed district or outlet is detected like a changed mask.
    signed: ['orderId', 'sender.address', 'receiver.address', 'routing', 'items', 'weightGrams'],
    // Blind indexes (README "Search"), planned with planIndex for 10^7 waybills and at most 32 false
    // positives per query, counting what the stored masks already show:
    // - full mobiles: the screen mask 138****5678 leaves 10^4 candidates, so 12 bits (each token value
    //   keeps ~2.4 of them; 19 bits named one, and whoever could compute tokens read every mobile);
    //   a query's ~2,400 token matches are filtered by the stored mask before anything is opened;
    // - last 4 (a pickup station's 10^4 parcels: 9 bits) and last 4 + district: the screen mask shows
    //   the last four digits and the district is plain, so these tokens reveal nothing more;
    // - ID numbers: the screen mask shows 2 of 18 characters (~10^8 candidates stay): 19 bits.
    indexes: {
      'receiver.mobile': { field: 'receiver.mobile', bits: 12 },
      'sender.mobile': { field: 'sender.mobile', bits: 12 },
      'receiver.mobile:last4': { field: 'receiver.mobile', transform: 'phone-last4', bits: 9 },
      'sender.mobile:last4': { field: 'sender.mobile', transform: 'phone-last4', bits: 9 },
      'sender.idNumber': { field: 'sender.idNumber', bits: 19 },
      'receiver.mobile:last4+district': {
        fields: [{ field: 'receiver.mobile', transform: 'phone-last4' }, 'receiver.address.district'],
        bits: 19,
      },
    },
  },
);

export type WaybillSchema = typeof waybill;
