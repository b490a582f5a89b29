"""The book's start method switch, MP_BOOK_START_METHOD."""

from __future__ import annotations

import multiprocessing

import pytest

import helpers
from helpers.lab.book import START_METHOD_ENV


def test_start_method_switch(monkeypatch):
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    assert helpers.book_start_method() == "spawn"
    monkeypatch.setenv(START_METHOD_ENV, "forkserver")
    assert helpers.book_start_method() == "forkserver"
    monkeypatch.setenv(START_METHOD_ENV, "threads")
    with pytest.raises(ValueError, match="MP_BOOK_START_METHOD='threads' is not a start method"):
        helpers.book_start_method()


def test_use_book_start_method_sets_the_default(monkeypatch):
    before = multiprocessing.get_start_method()
    monkeypatch.setenv(START_METHOD_ENV, "forkserver")
    try:
        assert helpers.use_book_start_method() == "forkserver"
        assert multiprocessing.get_start_method() == "forkserver"
    finally:
        multiprocessing.set_start_method(before, force=True)
