"""Descriptions taken from the domain's docstrings, so that frontend developers (GraphiQL's
docs) and domain experts (docs/ubiquitous-language.md) read the same words."""

from application.docs import one_line as domain_doc

__all__ = ["domain_doc"]
