// `node packages/contracts/scripts/deploy.ts --rpc URL [--config path] [--period 3600] [--from 0x..]`:
// deploys to a running node whose account `--from` (default: its first) is unlocked, and writes
// the config JSON. A faucet is deployed only on a local chain (31337/1337).
import { parseArgs } from 'node:util';
import type { Hex } from '../src/abi.ts';
import { deploy } from '../src/node.ts';

const { values } = parseArgs({
  options: {
    rpc: { type: 'string', default: 'http://127.0.0.1:8545' },
    config: { type: 'string', default: 'cairn-chain.json' },
    period: { type: 'string' },
    from: { type: 'string' },
  },
});
const config = await deploy({
  rpcUrl: values.rpc,
  configPath: values.config,
  ...(values.period ? { params: { periodSeconds: Number(values.period) } } : {}),
  ...(values.from ? { from: values.from as Hex } : {}),
});
console.log(JSON.stringify(config, null, 2));
