"""`strata bench`: a lean load generator for any S3 or DynamoDB endpoint.

Layout, bottom up:
    units.py     "4KiB", "15s" -> numbers
    stats.py     mergeable latency histogram, errors by code, the report
    sigv4.py     AWS Signature V4 signer with the signing key derived once per day
    http.py      keep-alive HTTP/1.1 client on a raw asyncio Protocol
    zipf.py      YCSB key choosers (zipfian, scrambled zipfian, latest, uniform)
    s3.py        S3 workloads (put, get, head, list, mixed)
    dynamodb.py  DynamoDB workloads (single ops and YCSB A-F)
    runner.py    workers, live progress, optional several processes
    command.py   argparse front: `run(argv) -> exit code`

It never imports the server: it measures Strata from the outside, like any client would.
"""
