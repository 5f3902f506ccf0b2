# SPDX-License-Identifier: MIT
"""Tests of scripts/taskleak, the command-line tool (see test_cli.py)."""
