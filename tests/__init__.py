"""The braillejobs test suite; folders mirror the package (cli, db, jobs, formats, translate, fleet,
workers), plus deploy (the deployment files through real validators) and reliability (faults
and hostile input across the whole system). Shared helpers: support.py."""
