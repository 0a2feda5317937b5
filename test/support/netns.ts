/**
 * Linux network namespaces for tests that need real addresses, routes and NAT (the field test bed,
 * test/integration/field): create namespaces with a per-process unique prefix, wire them with veth
 * pairs created directly inside the namespaces (nothing is ever added to the host's own namespace),
 * run commands in them (`ip netns exec`) and delete them all in close(), which the caller's afterAll
 * runs even when a test failed. Deleting a namespace deletes its veth ends and kills no process:
 * the caller kills what it started there first.
 *
 * Needs root, iproute2 (`ip`) and nftables (`nft`); requireNetns() throws with the reason and the
 * fix when one of them is missing (scripts/test-all.sh installs the packages), so a test FAILS
 * loudly instead of skipping.
 */
import { spawnSync } from 'node:child_process';

/** Throws a clear error unless this process can create namespaces and run `ip` and `nft`. */
export function requireNetns(): void {
  const problems: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) problems.push(`not root (uid ${process.getuid()}): network namespaces need root`);
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
  ] as const) {
    const probe = spawnSync(tool, ['-V'], { encoding: 'utf8', timeout: 5000 });
    if (probe.error) problems.push(`\`${tool}\` is missing (Debian: apt-get install ${pkg})`);
  }
  if (problems.length === 0) {
    const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 });
    if (probe.status !== 0) problems.push(`\`ip netns list\` failed: ${probe.stderr.trim()}`);
  }
  if (problems.length > 0) {
    throw new Error(`this test needs network namespaces and cannot run here:\n  ${problems.join('\n  ')}\nrun it as root after \`npm run test:all\` installed the tools`);
  }
}

/** Runs `cmd` (argv) and returns stdout; throws with the command and stderr when it fails. */
export function run(cmd: readonly string[], input?: string): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 10_000, input });
  if (r.error || r.status !== 0) throw new Error(`\`${cmd.join(' ')}\` failed (${r.status ?? r.error?.message}): ${(r.stderr ?? '').trim()}`);
  return r.stdout;
}

export interface VethEnd {
  /** Namespace (full name, as returned by Netns.add). */
  ns: string;
  /** Interface name inside that namespace. */
  ifname: string;
  /** Address with prefix length, e.g. '203.0.113.10/24'; more than one allowed. */
  addresses: readonly string[];
}

/** A set of namespaces owned by one test file. */
export class Netns {
  readonly #names: string[] = [];
  #closed = false;

  /** `prefix` should be unique per process (e.g. `field${process.pid}`) so parallel runs never collide. */
  constructor(readonly prefix: string) {}

  /** Creates namespace `<prefix>-<name>` with its loopback up; returns the full name. */
  add(name: string): string {
    const full = `${this.prefix}-${name}`;
    run(['ip', 'netns', 'add', full]);
    this.#names.push(full);
    this.exec(full, ['ip', 'link', 'set', 'lo', 'up']);
    return full;
  }

  /** The argv prefix that runs a command inside `ns`. */
  prefixFor(ns: string): string[] {
    return ['ip', 'netns', 'exec', ns];
  }

  /** Runs a command inside `ns` and returns its stdout (throws on failure). */
  exec(ns: string, cmd: readonly string[], input?: string): string {
    return run([...this.prefixFor(ns), ...cmd], input);
  }

  /** A veth pair from a to b, both ends created inside their namespaces, addressed and up. */
  link(a: VethEnd, b: VethEnd): void {
    run(['ip', 'link', 'add', a.ifname, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns]);
    for (const end of [a, b]) {
      for (const address of end.addresses) this.exec(end.ns, ['ip', 'addr', 'add', address, 'dev', end.ifname]);
      this.exec(end.ns, ['ip', 'link', 'set', end.ifname, 'up']);
    }
  }

  /** Adds an address to an interface of `ns` (e.g. on `lo`: an address of the host that no route leads to). */
  addAddress(ns: string, ifname: string, address: string): void {
    this.exec(ns, ['ip', 'addr', 'add', address, 'dev', ifname]);
  }

  defaultRoute(ns: string, via: string): void {
    this.exec(ns, ['ip', 'route', 'add', 'default', 'via', via]);
  }

  /** A route in `ns` to `destination` (a CIDR block) via the gateway `via`. */
  route(ns: string, destination: string, via: string): void {
    this.exec(ns, ['ip', 'route', 'add', destination, 'via', via]);
  }

  /**
   * An interface of `ns` on a network the test does not model (a second NIC, a VPN): a veth pair
   * with both ends inside `ns`, `ifname` addressed and up, its peer `<ifname>x` up and unaddressed,
   * so whatever is routed there goes nowhere. (No `dummy` link: its kernel module may be missing.)
   */
  deadEndLink(ns: string, ifname: string, addresses: readonly string[]): void {
    const peer = `${ifname}x`;
    this.exec(ns, ['ip', 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', peer]);
    for (const address of addresses) this.exec(ns, ['ip', 'addr', 'add', address, 'dev', ifname]);
    for (const name of [ifname, peer]) this.exec(ns, ['ip', 'link', 'set', name, 'up']);
  }

  /** Turns IPv4 forwarding on in `ns` (a router). */
  forwarding(ns: string): void {
    this.exec(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  }

  /** Loads an nftables ruleset (nft -f -) into `ns`. */
  nft(ns: string, ruleset: string): void {
    this.exec(ns, ['nft', '-f', '-'], ruleset);
  }

  /** Names of the namespaces still open. */
  names(): readonly string[] {
    return this.#names;
  }

  /** Deletes every namespace this object created (their veths go with them). Idempotent, never throws. */
  close(): string[] {
    const errors: string[] = [];
    if (this.#closed) return errors;
    this.#closed = true;
    for (const ns of this.#names.splice(0)) {
      const r = spawnSync('ip', ['netns', 'delete', ns], { encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) errors.push(`ip netns delete ${ns}: ${r.stderr?.trim()}`);
    }
    return errors;
  }
}
