/** ADMIN and AGENT are staff; a CLIENT sees its own tickets and their replies only. */
export const ROLES = ['ADMIN', 'AGENT', 'CLIENT'] as const;
export type Role = (typeof ROLES)[number];
