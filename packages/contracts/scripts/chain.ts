// `node packages/contracts/scripts/chain.ts [--port 8545] [--period 30] [--config path]`:
// starts anvil, deploys token, market and a funded faucet, writes the config JSON and runs until
// interrupted (anvil is stopped with it).
import { parseArgs } from 'node:util';
import { startLocalChain } from '../src/node.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    period: { type: 'string', default: '30' },
    config: { type: 'string', default: 'cairn-chain.json' },
  },
});
const { anvil, config } = await startLocalChain({
  ...(values.port ? { port: Number(values.port) } : {}),
  params: { periodSeconds: Number(values.period) },
  configPath: values.config,
});
console.log(`local chain ${config.rpcUrl} (chain ${config.chainId}); config in ${values.config}`);
console.log(JSON.stringify(config));
const stop = () => void anvil.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
