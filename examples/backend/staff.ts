/**
 * Who may ask for what: each staff principal's purposes, and the outlets and routes it may claim as
 * evidence. The backend enforces it before the guard (an unknown principal is 403), so a
 * customer-service account cannot send `X-Purpose: audit`, nor a station claim another outlet. In
 * production this comes from your identity system (roles in the gateway's token), not from a file.
 */
export interface StaffGrant {
  readonly purposes: readonly string[];
  /** Outlets it may name in `X-Outlet` (none: it may not send one). */
  readonly outlets?: readonly string[];
  /** Routes it may name in `X-Route` (none: it may not send one). */
  readonly routes?: readonly string[];
  /** Reads every principal's audit events in the console (others see their own only). */
  readonly auditor?: boolean;
}

export type StaffDirectory = Readonly<Record<string, StaffGrant>>;

/** The demo staff of `npm run example:backend` (the principals the README's curl lines and the console use). */
export const DEMO_STAFF: StaffDirectory = {
  'cs-agent-1': { purposes: ['search', 'customer-service'] },
  'agent-7': { purposes: ['search', 'customer-service'] },
  'courier-0417': { purposes: ['search', 'deliver'], routes: ['HZ-012-R3'] },
  'station-HZ-012': { purposes: ['pickup'], outlets: ['HZ-012'] },
  'intake-SZ-NS-001': { purposes: ['waybill-issue', 'realname-verify'], outlets: ['SZ-NS-001'] },
  'auditor-9': { purposes: ['search', 'audit'], auditor: true },
};
