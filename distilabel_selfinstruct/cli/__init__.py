"""The command-line jobs: `run` (generate a dataset), `publish` (its card, the Hub) and
`review` (Argilla). `pipelines/*.py` call them.
"""
