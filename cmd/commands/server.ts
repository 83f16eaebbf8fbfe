// `orch server`: the control plane (k3s server's flags, same defaults where they apply).
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_DATA_DIR, DEFAULT_KUBECONFIG } from '../../server/paths';
import { prepareNativeAddons } from '../native-addons';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

export function registerServer(program: Command): void {
  program.command('server')
    .description('run the control plane: apiserver on the embedded store (the agent is not built yet)')
    .option('--data-dir <dir>', 'where the store, certificates and credentials live', DEFAULT_DATA_DIR)
    .option('--https-listen-port <port>', 'HTTPS port of the apiserver', port, 6443)
    .option('--bind-address <ip>', 'address the apiserver listens on', '0.0.0.0')
    .option('--tls-san <name>', 'extra DNS name or IP for the serving certificate (repeatable, comma-separated)', collect, [])
    .option('--write-kubeconfig <path>', 'also write the admin kubeconfig here (\'\' for none)', DEFAULT_KUBECONFIG)
    .option('--disable-agent', 'run the control plane only (currently the only mode: the agent is not built yet)')
    .action(async (opts: { dataDir: string; httpsListenPort: number; bindAddress: string; tlsSan: string[]; writeKubeconfig: string; disableAgent?: boolean }) => {
      const log = (m: string): void => { process.stderr.write(`${new Date().toISOString()} ${m}\n`); };
      if (!opts.disableAgent) log('the agent is not built yet: running the control plane only (as with --disable-agent)');
      const { betterSqlite3Binding } = prepareNativeAddons();
      // Loaded here, not at the top: `orch --version` and the other commands need none of it.
      const { startServer } = await import('../../server/server');
      const s = await startServer({
        dataDir: opts.dataDir, httpsListenPort: opts.httpsListenPort, bindAddress: opts.bindAddress, tlsSans: opts.tlsSan,
        writeKubeconfig: opts.writeKubeconfig, nativeBinding: betterSqlite3Binding, log,
      });
      process.stdout.write(`orch server is ready at ${s.url}\nkubeconfig: ${s.kubeconfig ?? s.adminKubeconfig}\n  export KUBECONFIG=${s.kubeconfig ?? s.adminKubeconfig}\n`);
      let stopping = false;
      const stop = (sig: string): void => {
        if (stopping) return;
        stopping = true;
        log(`${sig}: shutting down`);
        s.close().then(() => process.exit(0), (err: unknown) => { log(`shutdown failed: ${(err as Error).message}`); process.exit(1); });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
