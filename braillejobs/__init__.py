"""braillejobs: batch conversion of English documents to Unified English Braille.

Importing this package must stay light: no torch, no Celery worker start-up. The neural engines
import torch only when they are built.
"""

__version__ = "0.1.0"
