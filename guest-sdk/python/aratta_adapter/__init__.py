"""Helpers for Aratta provider adapters written in Python and built with componentize-py.

An adapter implements the ``aratta:scri`` world's ``provider`` interface (``wit/provider.wit``)
as a ``Provider`` class in its main module; ``aratta adapter build DIR`` makes it a component.
This package is what such an adapter usually needs, and nothing more:

- :mod:`aratta_adapter.http`: blocking outbound HTTP over ``wasi:http``, the only way out of the
  sandbox (the host grants the hosts and adds the credential);
- :mod:`aratta_adapter.sse`: an incremental Server-Sent Events parser;
- :mod:`aratta_adapter.errors`: the typed ``adapter-error`` cases, including the mapping of a
  provider's HTTP status and body to the case the host acts on;
- :mod:`aratta_adapter.events`: the ``chat-events`` resource over a Python iterator, ending with
  exactly one ``stop`` or ``error``;
- :mod:`aratta_adapter.openai`: the OpenAI Chat Completions wire format, for OpenAI-compatible
  servers (Ollama, vLLM, llama.cpp).

Errors cross the boundary the componentize-py way: raise ``componentize_py_types.Err(error)``
with an ``AdapterError`` value (:func:`aratta_adapter.errors.fail` does that).
"""

__version__ = "0.1.0"
