/**
 * What a benchmark phase wrote to PostgreSQL's write-ahead log, per unit of work: every row
 * version, index entry, row lock and commit is a WAL record, so the records by kind show
 * where the database's work per mutation goes (an index entry per index for each new row
 * version, a lock per row a foreign key check or a claim locks). From pg_stat_wal (records,
 * full-page images, bytes) and pg_walinspect (records by resource manager and type) between
 * two snapshots. Both are the whole server's: a phase is measured while the others are idle.
 */
import { withClient } from './bench-db.mjs';

/** The WAL position and counters now; `url`'s database gets pg_walinspect (the embedded server's superuser). */
export async function walSnapshot(url) {
  return withClient(url, async (client) => {
    await client.query('create extension if not exists pg_walinspect');
    const { rows } = await client.query('select wal_records::bigint as records, wal_fpi::bigint as fpi, wal_bytes::bigint as bytes, pg_current_wal_lsn()::text as lsn from pg_stat_wal');
    const r = rows[0];
    return { url, records: Number(r.records), fpi: Number(r.fpi), bytes: Number(r.bytes), lsn: r.lsn };
  });
}

/**
 * Per unit (`count` of them) between two snapshots: records, full-page images and bytes, and
 * the `top` most frequent record kinds ("Btree/INSERT_LEAF": records per unit).
 */
export async function walPerUnit(before, after, count, top = 8) {
  const per = (x) => +(x / count).toFixed(2);
  return withClient(after.url, async (client) => {
    const { rows } = await client.query(
      `select "resource_manager/record_type" as kind, count from pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, true) where count > 0 order by count desc limit $3`,
      [before.lsn, after.lsn, top],
    );
    return {
      records: per(after.records - before.records),
      fullPageImages: per(after.fpi - before.fpi),
      bytes: Math.round((after.bytes - before.bytes) / count),
      byKind: Object.fromEntries(rows.map((r) => [r.kind, per(Number(r.count))])),
    };
  });
}

/** Sums phases measured apart ({ count, wal: walPerUnit's }), weighted by their counts (the anchor's two halves). */
export function mergeWalPerUnit(parts) {
  const total = parts.reduce((n, p) => n + p.count, 0);
  const mean = (get) => +(parts.reduce((n, p) => n + get(p.wal) * p.count, 0) / total).toFixed(2);
  const kinds = new Set(parts.flatMap((p) => Object.keys(p.wal.byKind)));
  return {
    records: mean((w) => w.records),
    fullPageImages: mean((w) => w.fullPageImages),
    bytes: Math.round(mean((w) => w.bytes)),
    byKind: Object.fromEntries([...kinds].map((k) => [k, mean((w) => w.byKind[k] ?? 0)]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1])),
  };
}

/** One line: "75.2 records (38.6 Btree/INSERT_LEAF, …), 8,390 bytes, 0.03 full-page images". */
export function describeWal(w) {
  const kinds = Object.entries(w.byKind).map(([k, n]) => `${n} ${k}`).join(', ');
  return `${w.records} records (${kinds}), ${w.bytes.toLocaleString('en')} bytes, ${w.fullPageImages} full-page images`;
}
