import { readFileSync } from 'node:fs';
import { startNginx, type Nginx } from './nginx';

/**
 * docs/scaling.md's nginx configuration for a cluster ("Load balancer"), as deployed: the same text with only
 * the nodes' addresses, the port nginx listens on and the certificate's files changed. Each change must find
 * what it replaces, so that the documented configuration and the tested one cannot drift apart unnoticed.
 */
function documentedLoadBalancer(nodePorts: readonly number[], tls: { cert: string; key: string }): (port: number) => string {
  const doc = readFileSync('docs/scaling.md', 'utf8');
  const section = doc.slice(doc.indexOf('\n## Load balancer\n'));
  const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('docs/scaling.md has no nginx block under "## Load balancer"');
  const servers = [...block.matchAll(/^([ \t]*server )[\d.]+:\d+( .*;)$/gm)];
  if (servers.length !== nodePorts.length) throw new Error(`the documented upstream has ${servers.length} nodes, not ${nodePorts.length}`);
  let site = block;
  servers.forEach((line, i) => (site = site.replace(line[0], `${line[1]}127.0.0.1:${nodePorts[i]}${line[2]}`)));
  return (port) => {
    const changes: [RegExp, string][] = [
      [/^([ \t]*listen) 443 ssl;$/m, `$1 127.0.0.1:${port} ssl;`],
      [/^([ \t]*ssl_certificate\s+)\S+;$/m, `$1${tls.cert};`],
      [/^([ \t]*ssl_certificate_key\s+)\S+;$/m, `$1${tls.key};`],
    ];
    return changes.reduce((text, [pattern, replacement]) => {
      if (!pattern.test(text)) throw new Error(`the documented nginx configuration has no line matching ${String(pattern)}`);
      return text.replace(pattern, replacement);
    }, site);
  };
}

/** A real nginx running docs/scaling.md's configuration in front of nodes on these loopback ports. */
export function startLoadBalancer(binary: string, nodePorts: readonly number[], tls: { cert: string; key: string }): Promise<Nginx> {
  return startNginx(binary, { upstreams: [...nodePorts], tls, site: documentedLoadBalancer(nodePorts, tls) });
}
