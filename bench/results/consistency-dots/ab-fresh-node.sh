#!/bin/bash
# A/B through a fresh node: two generators of 32 sessions each, single-key causal, per build.
#   ab-fresh-node.sh SKEW THIS_TREE BASELINE_TREE   (each tree built: dist/ and build/*.wasm)
skew=$1
for round in 1 2 3; do
  for b in "$2" "$3"; do
    cd $b
    node dist/cli/main.js start --host=127.0.0.1 --port-offset=15500 --threads=2 --global-replication=1 > "${TMPDIR:-/tmp}/ab-node.log" 2>&1 &
    sleep 3
    pids=""
    for g in 1 2; do
      timeout 120 node -r ./bench/register.js bench/consistency/generator.ts --routing tcp://127.0.0.1:21950 --level causal-single-key --skew $skew --sessions 32 --keys 100000 --seconds 10 --warmup-seconds 3 --seed $((round*10+g)) > "${TMPDIR:-/tmp}/ab-gen$g.json" &
      pids="$pids $!"
    done
    wait $pids
    node -e 'const fs=require("fs");let t=0,c=0,s=0;const f={};for(const g of [1,2]){const r=JSON.parse(fs.readFileSync((process.env.TMPDIR||"/tmp")+"/ab-gen"+g+".json"));t+=r.transactions;c+=r.cpuMs;s=r.seconds;for(const[k,v] of Object.entries(r.failures))f[k]=(f[k]||0)+v;}console.log(process.argv[1],process.argv[2],"skew",process.argv[3],"tx/s",Math.round(t/s),"clientCpuMs/tx",(c/t).toFixed(3),JSON.stringify(f))' $b $round $skew
    pkill -INT -f "port-offset=15500"; sleep 2
  done
done
