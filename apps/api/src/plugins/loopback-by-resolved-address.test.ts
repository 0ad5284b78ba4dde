import { describe, expect, it } from 'vitest';
import { isLoopback } from './auth';

/** A resolver that answers like /etc/hosts or DNS would for a name (and fails like them for others). */
const resolver = (table: Record<string, string[]>) => async (host: string) => {
  const addresses = table[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address }));
};

describe('loopback is decided by the addresses a host resolves to, not by its name', () => {
  it('addresses in 127.0.0.0/8 and ::1 are loopback; others are not', async () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '127.255.0.9', '::1'])
      expect(await isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2', '192.168.1.127'])
      expect(await isLoopback(host), host).toBe(false);
  });

  it('localhost on this machine resolves to loopback only, so it counts', async () => {
    expect(await isLoopback('localhost')).toBe(true);
  });

  it('a name that resolves to one address off this machine is not loopback, nor is one that does not resolve', async () => {
    const names = resolver({ localhost: ['127.0.0.1', '192.168.1.5'], lab: ['::1', '10.0.0.2'] });
    expect(await isLoopback('localhost', names)).toBe(false);
    expect(await isLoopback('lab', names)).toBe(false);
    expect(await isLoopback('nowhere', names)).toBe(false);
    expect(await isLoopback('no-such-host.invalid')).toBe(false);
    expect(await isLoopback('localhost', resolver({ localhost: ['127.0.0.1', '::1'] }))).toBe(true);
  });
});
