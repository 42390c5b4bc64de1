import { clientCpuBench } from './scripts/bench/client-cpu';
const qos = (process.argv[2] ?? '0,1').split(',').map(Number) as (0|1|2)[];
const r = await clientCpuBench({ rounds: Number(process.argv[3] ?? 3), qos, nodeArgs: process.argv[4] ? process.argv[4].split(' ') : [] });
for (const x of r) console.log(x.name, x.value, x.peerValue ?? '', x.ratio ?? '');
