"""Errors a user can fix.

Anything raised as an :class:`RlftError` is printed by the command-line entry points as one
line (what, where, how to fix) with a non-zero exit; every other exception is a bug and keeps
its traceback.
"""

import errno

# what the machine, not rlft, refuses (a full disk, a read-only or forbidden folder, a path through
# a file): an OSError with one of these is the user's to fix and is reported as one line
ENVIRONMENT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR)


class RlftError(Exception):
    """Base class of user-fixable errors: the message is shown to the user as is."""


class ConfigError(RlftError):
    """A configuration value is wrong (type, range, unknown key, inconsistent fields)."""


class RunFolderError(RlftError):
    """A run folder is missing, incomplete or not a run (e.g. ``resume=`` of a random folder)."""


class AbortRun(BaseException):
    """Carries a config error out of a Hydra callback.

    Hydra downgrades an ``Exception`` raised in a callback to a warning and goes on to create the
    run folder; a ``BaseException`` passes through, and the CLI reports the wrapped error.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error
