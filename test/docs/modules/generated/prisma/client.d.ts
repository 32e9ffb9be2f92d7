/**
 * Stand-in for the client `prisma generate` writes from the README's Prisma model (`model Waybill { id
 * String @id  sealed Json  receiverMobile String?  receiverLast4 String? }`): the part the README uses.
 * test/prisma/prisma.test.ts runs a really generated client.
 */
export interface Waybill {
  id: string;
  sealed: unknown;
  receiverMobile: string | null;
  receiverLast4: string | null;
}
type WaybillWhere = { id?: string; receiverMobile?: string | { equals: string }; receiverLast4?: string | { equals: string } };
export interface WaybillDelegate {
  create(args: { data: { id: string; sealed: unknown } }): Promise<Waybill>;
  findMany(args?: { where?: WaybillWhere; take?: number; skip?: number }): Promise<Waybill[]>;
}
export declare class PrismaClient {
  constructor(options: { adapter: unknown });
  waybill: WaybillDelegate;
  $extends<R>(extension: (client: PrismaClient) => R): R;
}
