/**
 * The built-in policy for the `waybill` schema (the CLI applies it when no `--policy` is given).
 * Each purpose opens the least it needs, for the records the principal is responsible for. A purpose
 * searches only the indexes it names (by default those whose fields it may open or confirm), within
 * its scope, at most 60 queries per principal an hour. `search` and `pickup` open nothing: they
 * confirm candidates inside the library (`confirm`), so a station never reads a full mobile.
 */
import type { WaybillSchema } from '../schema/waybill.js';
import type { AccessPolicy, PolicyPath } from './policy.js';

// `satisfies`: every path is checked against the waybill schema by the compiler.
export const waybillPolicy: AccessPolicy = {
  description: 'waybill-seal default policy for the waybill schema',
  purposes: {
    deliver: {
      description: 'a courier delivering on a route: the receiver, for waybills on that route',
      fields: ['receiver.name', 'receiver.mobile', 'receiver.address.detail'],
      scope: [{ record: 'routing.routeId', context: 'route' }],
    },
    'customer-service': {
      description: 'an agent working a ticket: the receiver mobile only',
      fields: ['receiver.mobile'],
      requires: ['ticket'],
    },
    'realname-verify': {
      description: 'real-name check at pickup (实名收寄), with a ticket: the sender ID number only',
      fields: ['sender.idNumber'],
      requires: ['ticket'],
    },
    'waybill-issue': {
      description: 'issuing the e-waybill at the origin outlet: names, phones and address details',
      fields: [
        'sender.name',
        'sender.mobile',
        'sender.landline',
        'sender.address.detail',
        'receiver.name',
        'receiver.mobile',
        'receiver.landline',
        'receiver.virtualNumber',
        'receiver.address.detail',
      ],
      scope: [{ record: 'routing.originOutlet', context: 'outlet' }],
    },
    search: {
      description: 'looking a waybill up by a full mobile or ID number for a ticket: candidates are confirmed inside the library, nothing is opened',
      fields: [],
      confirm: ['receiver.mobile', 'sender.mobile', 'sender.idNumber'],
      requires: ['ticket'],
      indexes: ['receiver.mobile', 'sender.mobile', 'sender.idNumber'],
    },
    pickup: {
      description: 'a pickup station finding a customer\'s parcels by the last four digits, only among parcels for its own outlet; it never reads a mobile',
      fields: [],
      confirm: ['receiver.mobile'],
      scope: [{ record: 'routing.destOutlet', context: 'outlet' }],
      indexes: ['receiver.mobile:last4', 'receiver.mobile:last4+district'],
    },
    audit: {
      description: 'a compliance case: every field, with a ticket, at most 50 records a day',
      fields: '*',
      requires: ['ticket'],
      quotas: [{ window: '1d', max: 50 }],
    },
    export: {
      description: 'bulk export under an approved grant (approval id, record budget)',
      fields: '*',
      approval: true,
    },
  },
  quotas: [{ window: '1h', max: 200 }],
  searchQuotas: [{ window: '1h', max: 60 }],
} satisfies AccessPolicy<PolicyPath<WaybillSchema>>;
