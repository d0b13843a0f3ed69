/**
 * Whether `v` is a row id as the tables hold them: a positive bigint, 18 digits at most,
 * without leading zeros. Anything else names no row (and, handed to PostgreSQL as a
 * bigint, would fail the query instead).
 */
export const isId = (v: string): boolean => /^[1-9][0-9]{0,17}$/.test(v);
