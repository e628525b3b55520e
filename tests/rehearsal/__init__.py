"""The deploy rehearsal: real Zappa commands against local AWS stand-ins.

Run it with ``make rehearse STAGE=dev`` (or ``python -m tests.rehearsal dev``);
docs/deploy.md describes what it does and checks.
"""
