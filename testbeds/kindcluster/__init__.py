"""A three-node kind cluster on this machine: `python3 -m testbeds.kindcluster up|down|run -- CMD`."""
