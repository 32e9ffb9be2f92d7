/**
 * The built-in policy for the `waybill` schema (the CLI applies it when no `--policy` is given).
 * Each purpose opens the least it needs, for the records the principal is responsible for.
 */
import type { AccessPolicy } from './policy.js';

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
};
