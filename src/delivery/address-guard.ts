/**
 * Keeps webhooks away from the server's own network (SSRF): loopback, private,
 * link-local, metadata (169.254.169.254) and every other non-public address.
 *
 * Two entry points:
 * - `classifyAddress(ip)`: pure classification of one IPv4/IPv6 literal;
 * - `guardedLookup`: a drop-in for net/tls `connect({ lookup })`. It resolves once,
 *   refuses if ANY resolved address is not public, and hands the checked addresses to
 *   the socket, so the socket connects to exactly what was checked (a DNS rebinding
 *   answer between "check" and "connect" cannot happen: there is no second lookup).
 *
 * net.connect skips `lookup` for IP literals, so callers must also run
 * `checkHostLiteral` on the host before connecting (send.ts does, in its connector).
 */
import dns from 'node:dns';
import net from 'node:net';

export interface AddressClass {
  allowed: boolean;
  /** why it is refused, as a phrase: "a loopback address" */
  reason?: string;
}

export const REFUSED_CODE = 'EDESKHOOKS_REFUSED';

/** The error a refused host produces; `code` lets send.ts classify it without string matching. */
export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
  readonly code = REFUSED_CODE;
  constructor(message: string) {
    super(message);
  }
}

const HINT = 'set DESKHOOKS_ALLOW_PRIVATE_NETWORKS=true to allow it';

// ---------------------------------------------------------------- IPv4

interface V4Range {
  base: number;
  bits: number;
  reason: string;
}

function v4(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function range(cidr: string, reason: string): V4Range {
  const [base, bits] = cidr.split('/');
  return { base: v4(base!), bits: Number(bits), reason };
}

/** First match wins, so the /32 broadcast precedes the 240/4 block that contains it. */
const V4_REFUSED: V4Range[] = [
  range('0.0.0.0/8', 'an unspecified address'),
  range('10.0.0.0/8', 'a private address'),
  range('100.64.0.0/10', 'a carrier-grade NAT address'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.0.0/16', 'a link-local address'),
  range('172.16.0.0/12', 'a private address'),
  range('192.0.0.0/24', 'a reserved address'),
  range('192.0.2.0/24', 'a documentation address'),
  range('192.88.99.0/24', 'a reserved address'),
  range('192.168.0.0/16', 'a private address'),
  range('198.18.0.0/15', 'a benchmarking address'),
  range('198.51.100.0/24', 'a documentation address'),
  range('203.0.113.0/24', 'a documentation address'),
  range('224.0.0.0/4', 'a multicast address'),
  range('255.255.255.255/32', 'a broadcast address'),
  range('240.0.0.0/4', 'a reserved address'),
];

function inV4(value: number, r: V4Range): boolean {
  const size = 2 ** (32 - r.bits);
  return value >= r.base && value < r.base + size;
}

function classifyV4(value: number): AddressClass {
  const hit = V4_REFUSED.find((r) => inV4(value, r));
  return hit ? { allowed: false, reason: hit.reason } : { allowed: true };
}

function v4Text(bytes: Uint8Array, offset: number): string {
  return Array.from(bytes.subarray(offset, offset + 4)).join('.');
}

function v4Value(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) >>> 0) + (bytes[offset + 1]! << 16) + (bytes[offset + 2]! << 8) + bytes[offset + 3]!;
}

// ---------------------------------------------------------------- IPv6

/** 16 bytes of a valid IPv6 literal (zone id dropped), or null. */
function parseV6(text: string): Uint8Array | null {
  const addr = text.split('%')[0]!;
  if (!net.isIPv6(addr)) return null;
  const words: number[] = [];
  const parseHalf = (half: string): number[] => {
    if (half === '') return [];
    const out: number[] = [];
    for (const group of half.split(':')) {
      if (group.includes('.')) {
        const n = v4(group); // trailing dotted quad, validated by isIPv6
        out.push(Math.floor(n / 65536), n % 65536);
      } else {
        out.push(parseInt(group, 16));
      }
    }
    return out;
  };
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = parseHalf(head);
  if (tail === undefined) {
    words.push(...h);
  } else {
    const t = parseHalf(tail);
    words.push(...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t);
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

/** Does `bytes` start with the `bits`-long prefix of the address `prefix`? */
function inV6(bytes: Uint8Array, prefix: string, bits: number): boolean {
  const p = parseV6(prefix)!;
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> i % 8;
    if ((bytes[i >> 3]! & mask) !== (p[i >> 3]! & mask)) return false;
  }
  return true;
}

/** IPv6 prefixes refused outright, checked after the ones that embed an IPv4 address. */
const V6_REFUSED: [string, number, string][] = [
  ['64:ff9b:1::', 48, 'a local-use NAT64 address'],
  ['100::', 64, 'a discard-only address'],
  ['2001:2::', 48, 'a benchmarking address'],
  ['2001:10::', 28, 'a reserved (ORCHID) address'],
  ['2001:20::', 28, 'a reserved (ORCHIDv2) address'],
  ['2001:db8::', 32, 'a documentation address'],
  ['3fff::', 20, 'a documentation address'],
  ['fc00::', 7, 'a unique-local address'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local address'],
  ['ff00::', 8, 'a multicast address'],
];

/** Refuse when an IPv6 address carries a non-public IPv4 address the network would route to. */
function embedded(bytes: Uint8Array, offset: number, kind: string, xor = 0): AddressClass | null {
  const value = (v4Value(bytes, offset) ^ xor) >>> 0;
  const inner = classifyV4(value);
  if (inner.allowed) return null;
  const text = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
  return { allowed: false, reason: `${kind} embedding ${text}, ${inner.reason}` };
}

function classifyV6(bytes: Uint8Array): AddressClass {
  const zeroTo = (n: number) => bytes.subarray(0, n).every((b) => b === 0);
  if (zeroTo(16)) return { allowed: false, reason: 'an unspecified address' };
  if (zeroTo(15) && bytes[15] === 1) return { allowed: false, reason: 'a loopback address' };
  if (zeroTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) {
    // ::ffff:a.b.c.d reaches a.b.c.d on a dual-stack socket: judge the IPv4 address.
    const inner = classifyV4(v4Value(bytes, 12));
    if (inner.allowed) return inner;
    return { allowed: false, reason: `an IPv4-mapped address of ${v4Text(bytes, 12)}, ${inner.reason}` };
  }
  // ::a.b.c.d (deprecated, RFC 4291 §2.5.5.1): never a legitimate webhook target.
  if (zeroTo(12)) return { allowed: false, reason: `an IPv4-compatible address (${v4Text(bytes, 12)}), which is deprecated` };
  if (inV6(bytes, '64:ff9b::', 96)) {
    const hit = embedded(bytes, 12, 'a NAT64 address');
    if (hit) return hit;
  }
  if (inV6(bytes, '2002::', 16)) {
    const hit = embedded(bytes, 2, 'a 6to4 address');
    if (hit) return hit;
  }
  if (inV6(bytes, '2001::', 32)) {
    // Teredo: server IPv4 in bits 32-63, client IPv4 inverted in the last 32 bits.
    const hit = embedded(bytes, 4, 'a Teredo address') ?? embedded(bytes, 12, 'a Teredo address', 0xffffffff);
    if (hit) return hit;
  }
  const refused = V6_REFUSED.find(([prefix, bits]) => inV6(bytes, prefix, bits));
  if (refused) return { allowed: false, reason: refused[2] };
  // Only 2000::/3 is allocated as global unicast (NAT64 64:ff9b::/96 was handled above).
  if (!inV6(bytes, '2000::', 3) && !inV6(bytes, '64:ff9b::', 96)) return { allowed: false, reason: 'a reserved address' };
  return { allowed: true };
}

// ---------------------------------------------------------------- public API

/**
 * Is `ip` a public address a webhook may reach? Accepts IPv4, IPv6 (with or without
 * [brackets] and %zone). Anything that is not an IP literal is refused.
 */
export function classifyAddress(ip: string): AddressClass {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (net.isIPv4(text)) return classifyV4(v4(text));
  const bytes = parseV6(text);
  if (bytes) return classifyV6(bytes);
  return { allowed: false, reason: 'not an IP address' };
}

/** For an IP-literal host (net.connect would skip `lookup`): the refusal, or null when allowed or not a literal. */
export function checkHostLiteral(hostname: string): RefusedAddressError | null {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (net.isIP(host) === 0) return null;
  const c = classifyAddress(host);
  return c.allowed ? null : new RefusedAddressError(`webhook host "${host}" is ${c.reason}; ${HINT}`);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

/**
 * Builds a `lookup` for net/tls connect. `resolve` is injectable for tests; the default
 * is dns.lookup (the OS resolver, as Node itself uses, so /etc/hosts applies).
 */
export function createGuardedLookup(resolve: Resolver = dns.lookup): net.LookupFunction {
  return (hostname, options, callback: LookupCallback) => {
    // Node always passes an object, but the public signature also allows a family number.
    const opts: dns.LookupOptions = typeof options === 'object' && options !== null ? options : { family: options as number };
    resolve(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return callback(err, opts.all ? [] : '');
      if (!addresses || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        e.code = 'ENOTFOUND';
        return callback(e, opts.all ? [] : '');
      }
      for (const a of addresses) {
        const c = classifyAddress(a.address);
        if (!c.allowed) {
          const refused = new RefusedAddressError(`webhook host "${hostname}" resolves to ${a.address}, ${c.reason}; ${HINT}`);
          return callback(refused, opts.all ? [] : '');
        }
      }
      // Hand back exactly the addresses just checked: the socket connects to one of them.
      if (opts.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** The guarded lookup over the system resolver. */
export const guardedLookup: net.LookupFunction = createGuardedLookup();
