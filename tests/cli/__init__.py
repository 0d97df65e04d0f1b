"""The command-line faces, through Click's runner and as subprocesses."""
