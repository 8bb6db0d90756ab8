"""The engine: one job, start to end (run_job), and writing its result so that nothing
half-written is seen and nothing that is not snapcli's is replaced.
"""
