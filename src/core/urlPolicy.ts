// What the client may download when an image is given as an http(s) URL: upstream's
// url_utils knobs as one object, checked before the first request and again on every redirect hop.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { InvalidURLImageInput, truncate, URLAddressNotAllowedError } from './errors';

export interface UrlPolicy {
  /** False: URL inputs are refused outright. */
  allowUrlInput: boolean;
  /** False: only https URLs (on every redirect hop). */
  allowNonHttps: boolean;
  /** False: hosts that are, or resolve to, loopback / private / link-local / CGNAT addresses are refused. */
  allowNonGlobalAddresses: boolean;
  /** False: IP literals, `localhost` and dot-less or internal host names are refused. */
  allowHostsWithoutFqdn: boolean;
  /** When not empty, only these hosts (or their subdomains) may be contacted. */
  allowedHosts: string[];
  /** These hosts (and their subdomains) are never contacted. */
  deniedHosts: string[];
  maxRedirects: number;
  maxDownloadBytes: number;
  downloadTimeoutMs: number;
}

/** Upstream's defaults: every URL allowed (plus caps upstream does not have). */
export const PERMISSIVE_URL_POLICY: Readonly<UrlPolicy> = Object.freeze({
  allowUrlInput: true,
  allowNonHttps: true,
  allowNonGlobalAddresses: true,
  allowHostsWithoutFqdn: true,
  allowedHosts: [],
  deniedHosts: [],
  maxRedirects: 30,
  maxDownloadBytes: 50 * 1024 * 1024,
  downloadTimeoutMs: 30_000,
});

/** For servers reachable from untrusted flows: public https hosts only, nothing inside the network. */
export const STRICT_URL_POLICY: Readonly<UrlPolicy> = Object.freeze({
  ...PERMISSIVE_URL_POLICY,
  allowNonHttps: false,
  allowNonGlobalAddresses: false,
  allowHostsWithoutFqdn: false,
  maxRedirects: 5,
  maxDownloadBytes: 20 * 1024 * 1024,
  downloadTimeoutMs: 15_000,
});

export type UrlPolicyInput = Partial<UrlPolicy> | 'permissive' | 'strict';

export function resolveUrlPolicy(input: UrlPolicyInput = 'permissive'): UrlPolicy {
  if (input === 'strict') return { ...STRICT_URL_POLICY };
  if (input === 'permissive') return { ...PERMISSIVE_URL_POLICY };
  return { ...PERMISSIVE_URL_POLICY, ...input };
}

const NON_GLOBAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_GLOBAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_GLOBAL.addSubnet(network, prefix, 'ipv6');
}

const IPV4_MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/** The dotted IPv4 form of an IPv4-mapped IPv6 address (`::ffff:7f00:1` → `127.0.0.1`), else undefined. */
function unmapIpv4(address: string): string | undefined {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const match = IPV4_MAPPED.exec(canonical);
  if (!match) return undefined;
  const high = parseInt(match[1], 16);
  const low = parseInt(match[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True for publicly routable addresses; false for loopback, private, link-local, CGNAT, documentation ... */
export function isGlobalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NON_GLOBAL.check(address, 'ipv4');
  if (family === 6) {
    const ipv4 = address.includes('.') ? address.slice(address.lastIndexOf(':') + 1) : unmapIpv4(address);
    if (ipv4 && address.toLowerCase().startsWith('::ffff:')) return isGlobalAddress(ipv4);
    return !NON_GLOBAL.check(address, 'ipv6');
  }
  return false;
}

const INTERNAL_SUFFIXES = ['.local', '.localhost', '.internal', '.lan', '.home.arpa', '.intranet', '.corp'];

function isFullyQualified(hostname: string): boolean {
  if (isIP(hostname)) return false;
  if (!hostname.includes('.') || hostname === 'localhost') return false;
  return !INTERNAL_SUFFIXES.some((suffix) => hostname.endsWith(suffix));
}

function hostMatches(hostname: string, entries: readonly string[]): boolean {
  return entries.some((entry) => {
    const host = entry.trim().toLowerCase().replace(/^\*?\./, '');
    return host !== '' && (hostname === host || hostname.endsWith(`.${host}`));
  });
}

function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/**
 * Checks one URL (the first or a redirect target) against the policy; returns it parsed.
 * DNS answers are checked at connection time by `policyLookup`, so the address that was
 * checked is the address that is used.
 */
export function checkImageUrl(rawUrl: string, policy: UrlPolicy): URL {
  if (!policy.allowUrlInput) throw new InvalidURLImageInput('Providing images as URLs is not allowed by the URL policy.');
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(rawUrl)?.[1] ?? '';
  if (authority.includes('\\')) throw new InvalidURLImageInput('Image URL rejected: backslash in the URL authority.');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new InvalidURLImageInput(`Image URL is not a valid URL: ${truncate(rawUrl, 200)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidURLImageInput(`Image URL scheme '${url.protocol}' is not supported (http or https only).`);
  }
  if (url.protocol === 'http:' && !policy.allowNonHttps) {
    throw new InvalidURLImageInput('Image URL rejected: only https URLs are allowed by the URL policy.');
  }
  const hostname = bareHostname(url);
  if (!policy.allowHostsWithoutFqdn && !isFullyQualified(hostname)) {
    throw new InvalidURLImageInput(`Image URL rejected: '${hostname}' is not a fully qualified domain name.`);
  }
  if (hostMatches(hostname, policy.deniedHosts)) {
    throw new URLAddressNotAllowedError(`Image URL rejected: host '${hostname}' is on the deny list.`);
  }
  if (policy.allowedHosts.length > 0 && !hostMatches(hostname, policy.allowedHosts)) {
    throw new URLAddressNotAllowedError(`Image URL rejected: host '${hostname}' is not on the allow list.`);
  }
  if (!policy.allowNonGlobalAddresses && isIP(hostname) && !isGlobalAddress(hostname)) {
    throw new URLAddressNotAllowedError(`Image URL rejected: '${hostname}' is not a public address.`);
  }
  return url;
}

/**
 * A DNS lookup for the download agent that refuses non-global answers, so a host name that
 * resolves into the local network cannot be used to reach it (no check-then-resolve gap).
 */
export function policyLookup(policy: UrlPolicy): LookupFunction | undefined {
  if (policy.allowNonGlobalAddresses) return undefined;
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const blocked = addresses.find((entry) => !isGlobalAddress(entry.address));
      if (blocked || addresses.length === 0) {
        return callback(
          new URLAddressNotAllowedError(`Image URL rejected: '${hostname}' resolves to a non-public address.`),
          '',
          0,
        );
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
