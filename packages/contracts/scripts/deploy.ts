// `node packages/contracts/scripts/deploy.ts --rpc URL [--config path] [--period 3600]
//   [--key-file path | --from 0x..]`: deploys and writes the config JSON. The deployer is the
// account of a key file (signed here), or an account the node holds (`--from`, default: its
// first). A faucet is deployed only on a local chain (31337/1337).
import { parseArgs } from 'node:util';
import type { Address } from 'viem';
import { accountFromKeyFile, deploy } from '../src/node.ts';

const { values } = parseArgs({
  options: {
    rpc: { type: 'string', default: 'http://127.0.0.1:8545' },
    config: { type: 'string', default: 'cairn-chain.json' },
    period: { type: 'string' },
    from: { type: 'string' },
    'key-file': { type: 'string' },
  },
});
const config = await deploy({
  rpcUrl: values.rpc,
  configPath: values.config,
  ...(values.period ? { params: { periodSeconds: Number(values.period) } } : {}),
  ...(values['key-file']
    ? { from: accountFromKeyFile(values['key-file']) }
    : values.from
      ? { from: values.from as Address }
      : {}),
});
console.log(JSON.stringify(config, null, 2));
