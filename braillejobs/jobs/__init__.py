"""Jobs: what a user asks for (``options``), the files it names (``inputs``) and its life on the
database (``lifecycle``: create, submit, convert, status, cancel, retry, fetch, wait).

The public names are gathered here, so that callers write ``jobs.submit(...)``.
"""

from .lifecycle import (ConvertResult, Created, Fetched, cancel, chunks, convert,
                        corrections_used, create_job, errors, fetch, find_job, iter_results,
                        list_jobs, progress, retry, submit, wait, warnings)
from .options import JobError, JobOptions

__all__ = ["ConvertResult", "Created", "Fetched", "JobError", "JobOptions", "cancel", "chunks",
           "convert", "corrections_used", "create_job", "errors", "fetch", "find_job",
           "iter_results", "list_jobs", "progress", "retry", "submit", "wait", "warnings"]
