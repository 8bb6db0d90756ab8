"""The service: state and its migrations, the job queue and its workers, job records,
templates, batch, callbacks, listing, and the API dialects (VOD, MTS).
"""
