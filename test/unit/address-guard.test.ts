import net from 'node:net';
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkHostLiteral, classifyAddress, createGuardedLookup, guardedLookup, REFUSED_CODE } from '../../src/delivery/address-guard.js';

// Classification only: nothing here sends traffic to a non-loopback address.

describe('classifyAddress: refused', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.1.2.3', 'a loopback address'],
    ['0.0.0.0', 'an unspecified address'],
    ['0.1.2.3', 'an unspecified address'],
    ['10.0.0.1', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['169.254.169.254', 'a link-local address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['100.127.255.255', 'a carrier-grade NAT address'],
    ['224.0.0.1', 'a multicast address'],
    ['239.255.255.250', 'a multicast address'],
    ['240.0.0.1', 'a reserved address'],
    ['255.255.255.255', 'a broadcast address'],
    ['198.18.0.1', 'a benchmarking address'],
    ['198.19.255.255', 'a benchmarking address'],
    ['192.0.2.1', 'a documentation address'],
    ['198.51.100.7', 'a documentation address'],
    ['203.0.113.9', 'a documentation address'],
    ['192.0.0.8', 'a reserved address'],
    ['::1', 'a loopback address'],
    ['[::1]', 'a loopback address'],
    ['0:0:0:0:0:0:0:1', 'a loopback address'],
    ['::', 'an unspecified address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['febf::1', 'a link-local address'],
    ['fd00::1', 'a unique-local address'],
    ['[fd00::1]', 'a unique-local address'],
    ['fc00::1', 'a unique-local address'],
    ['fec0::1', 'a site-local address'],
    ['ff02::1', 'a multicast address'],
    ['2001:db8::1', 'a documentation address'],
    ['3fff::1', 'a documentation address'],
    ['2001:2::1', 'a benchmarking address'],
    ['100::1', 'a discard-only address'],
    ['64:ff9b:1::1', 'a local-use NAT64 address'],
    ['4000::1', 'a reserved address'],
    ['::ffff:127.0.0.1', 'an IPv4-mapped address of 127.0.0.1, a loopback address'],
    ['::ffff:7f00:1', 'an IPv4-mapped address of 127.0.0.1, a loopback address'],
    ['[::ffff:7f00:1]', 'an IPv4-mapped address of 127.0.0.1, a loopback address'],
    ['::ffff:a9fe:a9fe', 'an IPv4-mapped address of 169.254.169.254, a link-local address'],
    ['::ffff:10.0.0.1', 'an IPv4-mapped address of 10.0.0.1, a private address'],
    ['::127.0.0.1', 'an IPv4-compatible address (127.0.0.1), which is deprecated'],
    ['::8.8.8.8', 'an IPv4-compatible address (8.8.8.8), which is deprecated'],
    ['64:ff9b::7f00:1', 'a NAT64 address embedding 127.0.0.1, a loopback address'],
    ['64:ff9b::10.0.0.1', 'a NAT64 address embedding 10.0.0.1, a private address'],
    ['2002:7f00:1::', 'a 6to4 address embedding 127.0.0.1, a loopback address'],
    ['2002:c0a8:101::1', 'a 6to4 address embedding 192.168.1.1, a private address'],
    // Teredo (RFC 4380 example): client 192.0.2.45 is stored inverted in the last 32 bits.
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'a Teredo address embedding 192.0.2.45, a documentation address'],
    ['localhost', 'not an IP address'],
    ['example.com', 'not an IP address'],
    ['', 'not an IP address'],
  ])('%s → %s', (ip, reason) => {
    expect(classifyAddress(ip)).toEqual({ allowed: false, reason });
  });
});

describe('classifyAddress: allowed', () => {
  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '11.0.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '169.253.255.255',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2001:4860::8888',
    '2001:4860:4860::8888',
    '[2606:4700:4700::1111]',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('%s', (ip) => {
    expect(classifyAddress(ip)).toEqual({ allowed: true });
  });
});

describe('IP-literal hosts as WHATWG URL normalises them', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1', 'a loopback address'],
    ['[::1]', '::1', 'a loopback address'],
    ['127.1.2.3', '127.1.2.3', 'a loopback address'],
    ['2130706433', '127.0.0.1', 'a loopback address'],
    ['0x7f.1', '127.0.0.1', 'a loopback address'],
    ['0.0.0.0', '0.0.0.0', 'an unspecified address'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1', 'an IPv4-mapped address of 127.0.0.1, a loopback address'],
    ['10.0.0.1', '10.0.0.1', 'a private address'],
    ['169.254.169.254', '169.254.169.254', 'a link-local address'],
    ['[fd00::1]', 'fd00::1', 'a unique-local address'],
  ])('http://%s/ → %s, refused', (host, normalised, reason) => {
    const hostname = new URL(`http://${host}:8080/x`).hostname;
    const err = checkHostLiteral(hostname);
    expect(err?.code).toBe(REFUSED_CODE);
    expect(err?.message).toBe(`webhook host "${normalised}" is ${reason}; set DESKHOOKS_ALLOW_PRIVATE_NETWORKS=true to allow it`);
  });

  it('names are left to the guarded lookup; public literals pass', () => {
    expect(checkHostLiteral('localhost')).toBeNull();
    expect(checkHostLiteral('example.com')).toBeNull();
    expect(checkHostLiteral('8.8.8.8')).toBeNull();
    expect(checkHostLiteral('[2001:4860::8888]')).toBeNull();
  });
});

type Resolved = { err: NodeJS.ErrnoException | null; address: unknown; family?: number };

function lookupWith(addresses: LookupAddress[] | Error, all: boolean, family = 0) {
  const calls: { hostname: string; options: object }[] = [];
  const lookup = createGuardedLookup((hostname, options, cb) => {
    calls.push({ hostname, options });
    if (addresses instanceof Error) cb(addresses as NodeJS.ErrnoException, []);
    else cb(null, addresses);
  });
  return new Promise<Resolved & { calls: typeof calls }>((resolve) => {
    lookup('hook.example', { all, family }, (err, address, fam) => resolve({ err, address, family: fam, calls }));
  });
}

describe('createGuardedLookup', () => {
  const pub4 = { address: '8.8.8.8', family: 4 };
  const pub6 = { address: '2001:4860::8888', family: 6 };

  it('hands back exactly the checked addresses, from ONE resolution (options.all)', async () => {
    const r = await lookupWith([pub4, pub6], true);
    expect(r.err).toBeNull();
    expect(r.address).toEqual([pub4, pub6]);
    expect(r.calls).toHaveLength(1);
  });

  it('hands back the first checked address without options.all', async () => {
    const r = await lookupWith([pub6, pub4], false, 6);
    expect(r).toMatchObject({ err: null, address: '2001:4860::8888', family: 6 });
    expect(r.calls[0]!.options).toMatchObject({ all: true, family: 6 });
  });

  it('refuses when ANY resolved address is not public', async () => {
    const r = await lookupWith([pub4, { address: '10.1.2.3', family: 4 }], true);
    expect(r.err?.code).toBe(REFUSED_CODE);
    expect(r.err?.message).toBe('webhook host "hook.example" resolves to 10.1.2.3, a private address; set DESKHOOKS_ALLOW_PRIVATE_NETWORKS=true to allow it');
  });

  it('passes resolver errors through, and treats no answer as ENOTFOUND', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND hook.example'), { code: 'ENOTFOUND' });
    expect((await lookupWith(notFound, true)).err).toBe(notFound);
    expect((await lookupWith([], false)).err?.code).toBe('ENOTFOUND');
  });
});

describe('guardedLookup over the system resolver', () => {
  it('refuses localhost with the documented message', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', { all: true }, (e) => resolve(e)));
    expect(err?.code).toBe(REFUSED_CODE);
    expect(err?.message).toMatch(/^webhook host "localhost" resolves to (127\.0\.0\.1|::1), a loopback address; set DESKHOOKS_ALLOW_PRIVATE_NETWORKS=true to allow it$/);
  });

  it('used as net.connect({ lookup }), the socket never reaches a loopback server', async () => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
        const socket = net.connect({ host: 'localhost', port, lookup: guardedLookup });
        socket.once('connect', () => {
          socket.destroy();
          reject(new Error('connected'));
        });
        socket.once('error', resolve);
      });
      expect(err.code).toBe(REFUSED_CODE);
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
