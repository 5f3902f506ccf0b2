# SPDX-License-Identifier: MIT
"""The two exceptions the commands share."""


class CliError(Exception):
    """A failure shown as one line on stderr, with the exit status to use."""

    def __init__(self, message, status=2):
        Exception.__init__(self, message)
        self.message = message
        self.status = status


class NotAReport(Exception):
    """The reason a file is not a taskleak report."""

