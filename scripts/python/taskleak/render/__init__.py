# SPDX-License-Identifier: MIT
"""Renderers: one module per output format, behind one interface.

A renderer is made with the options of `taskleak report` it understands
(ROOT, the directory source paths are shown from; text also takes native,
fold and max_tasks; html a title) and turns a list of model.Report into
the text to print:

    from taskleak import render
    text = render.create("sarif", root="/src").render(reports)
"""


class Renderer:
    """The interface: NAME, and render(reports) -> str."""

    name = None

    def __init__(self, root=None, **options):
        self.root = root

    def render(self, reports):
        raise NotImplementedError


def renderers():
    """{format name: Renderer subclass}, in the order `--format` lists them."""
    from .html import HtmlRenderer
    from .json import JsonRenderer
    from .sarif import SarifRenderer
    from .text import TextRenderer
    return dict((cls.name, cls) for cls in (TextRenderer, JsonRenderer, SarifRenderer,
                                            HtmlRenderer))


def create(name, **options):
    """A renderer of format NAME; KeyError for an unknown one."""
    return renderers()[name](**options)
