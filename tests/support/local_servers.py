"""How each OpenAI-compatible server answers, for :class:`tests.support.fake_openai.FakeOpenAI`.

Each :class:`Server` holds what its real counterpart documents or sends (see the project's
README, "AI on the school's own server", for the sources):

* ``GET /v1/models``: the model card, with ``owned_by`` as the server sets it (``llamacpp``,
  ``me`` for llama-cpp-python, ``vllm`` with ``max_model_len``, ``library`` for Ollama,
  ``organization_owner`` for LM Studio);
* the server's own metadata: llama.cpp ``GET /props`` (``default_generation_settings.n_ctx``,
  ``total_slots``) and ``POST /tokenize`` (``{"content"}`` → ``{"tokens"}``); vLLM
  ``POST /tokenize`` (``{"model", "prompt"}`` → ``{"count", "max_model_len", "tokens"}``);
  llama-cpp-python ``POST /extras/tokenize/count`` (``{"input"}`` → ``{"count"}``); Ollama
  ``POST /api/show`` (``model_info["<arch>.context_length"]``, ``parameters``) and
  ``GET /api/ps`` (``context_length``, ``size_vram``); LM Studio ``GET /api/v0/models/{id}``
  (``max_context_length``, ``loaded_context_length``);
* the output modes it accepts, and the exact refusal of the others: llama-cpp-python's
  request validation error wrapped as a 500 ``internal_server_error`` ("Input should be
  'text' or 'json_object'"); an older llama.cpp's 500 ``server_error`` ("response_format
  type must be one of "text" or "json_object", but got: json_schema"); LM Studio's 400 with a
  bare string error ("'response_format.type' must be 'json_schema' or 'text'");
* what a prompt beyond its context gets: llama-cpp-python's 400 ``context_length_exceeded``
  ("This model's maximum context length is N tokens. However, you requested ..."); llama.cpp's
  400 ``exceed_context_size_error`` with ``n_prompt_tokens`` and ``n_ctx``; vLLM's 400
  ``BadRequestError`` in its ``{"object": "error", ...}`` body; Ollama cuts the prompt
  silently (counted in ``FakeOpenAI.truncated``);
* how many requests it works on at once (``slots``; llama-cpp-python one);
* JSON mode with a schema (``response_format: {"type": "json_object", "schema": ...}``):
  llama-cpp-python and llama.cpp (old and new) turn the schema into a grammar, so the output
  has the schema's shape ("JSON Schema mode" in llama-cpp-python's server docs); vLLM and
  Ollama accept the key and ignore it; OpenAI refuses it with a 400 "Unknown parameter:
  'response_format.schema'.";
* streaming (``stream=True``, server-sent ``chat.completion.chunk`` events ending with
  ``data: [DONE]``): ``stream_options: {"include_usage": true}`` gets a last chunk with
  ``usage`` and no choices from OpenAI, vLLM, llama.cpp and Ollama; llama-cpp-python ignores
  the option (its request model drops unknown fields) and sends no usage; an Azure OpenAI
  deployment on an older API version refuses it with a 400 "Unrecognized request argument
  supplied: stream_options". A prompt beyond llama-cpp-python's context, streamed, gets
  ``200`` and a stream that ends before any event (the error is raised inside the stream).

Token counts use one fake tokenizer for everything (``len(text) / 4``, rounded up), so that
the tokenize endpoints, the context checks and ``usage`` agree, as on a real server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LLAMA_CPP",
    "LLAMA_CPP_OLD",
    "LLAMA_CPP_PYTHON",
    "AZURE_OLD",
    "JSON_ONLY",
    "LM_STUDIO",
    "OLLAMA",
    "OPENAI",
    "SERVERS",
    "TEXT_ONLY",
    "TOOLS_ONLY",
    "VLLM",
    "Server",
    "fake_tokens",
]

ALL_MODES = frozenset({"json_schema", "json_object", "tools", "text"})


def fake_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


@dataclass(frozen=True)
class Server:
    name: str
    owned_by: str
    modes: frozenset[str] = ALL_MODES
    n_ctx: int | None = None  # None: no limit worth checking (a cloud model)
    slots: int | None = None  # None: as many as arrive
    strict_only: bool = False  # OpenAI: a json_schema must be strict-valid
    object_schema: str = "ignore"  # JSON mode's "schema": enforce (a grammar), ignore, reject
    stream_options: str = "usage"  # usage (a last chunk with it), ignore, reject
    extra: dict[str, Any] = field(default_factory=dict)

    # -- the model list and the server's own endpoints --------------------------------------
    def models(self, model: str) -> dict[str, Any]:
        card: dict[str, Any] = {"id": model, "object": "model", "owned_by": self.owned_by}
        if self.name == "vLLM":
            card |= {"created": 0, "root": model, "parent": None, "max_model_len": self.n_ctx}
        if self.name == "llama-cpp-python":
            card["permissions"] = []
        if self.name == "llama.cpp":
            card |= {"created": 0, "meta": {"n_ctx_train": 8192, "n_vocab": 49152}}
        return {"object": "list", "data": [card]}

    def route(self, method: str, path: str, body: dict[str, Any], model: str) -> Any:
        """The JSON of a metadata endpoint this server has, or None (a 404)."""
        n_ctx = self.n_ctx or 4096
        if self.name == "llama.cpp" and (method, path) == ("GET", "/props"):
            return {
                "default_generation_settings": {"n_ctx": n_ctx, "temperature": 0.8},
                "total_slots": self.slots or 1,
                "model_path": f"/models/{model}.gguf",
                "build_info": "b4000-fake",
            }
        if self.name == "llama.cpp" and (method, path) == ("POST", "/tokenize"):
            return {"tokens": list(range(fake_tokens(str(body.get("content", "")))))}
        if self.name == "vLLM" and (method, path) == ("POST", "/tokenize"):
            count = fake_tokens(str(body.get("prompt", "")))
            return {"count": count, "max_model_len": n_ctx, "tokens": list(range(count))}
        if self.name == "llama-cpp-python" and (method, path) == ("POST", "/extras/tokenize/count"):
            return {"count": fake_tokens(str(body.get("input", "")))}
        if self.name == "Ollama" and (method, path) == ("POST", "/api/show"):
            return {
                "modelfile": "# fake",
                "parameters": f'num_ctx                        {n_ctx}\nstop "<|im_end|>"',
                "template": "{{ .Prompt }}",
                "details": {"format": "gguf", "family": "llama", "parameter_size": "135M"},
                "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
            }
        if self.name == "Ollama" and (method, path) == ("GET", "/api/ps"):
            return {"models": [{"name": model, "size_vram": 0, "context_length": n_ctx}]}
        if self.name == "LM Studio" and method == "GET" and path == f"/api/v0/models/{model}":
            return {
                "id": model,
                "object": "model",
                "type": "llm",
                "state": "loaded",
                "max_context_length": 8192,
                "loaded_context_length": n_ctx,
            }
        return None

    # -- refusals ---------------------------------------------------------------------------
    def refuse_mode(self, mode: str) -> tuple[int, Any]:
        """Status and body for a request in a mode this server does not accept."""
        if self.name == "llama-cpp-python":
            detail = (
                "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
                "'ctx': {'expected': \"'text' or 'json_object'\"}}]"
            )
            return 500, {
                "error": {
                    "message": detail,
                    "type": "internal_server_error",
                    "param": None,
                    "code": None,
                }
            }
        if self.name == "llama.cpp (old)":
            message = (
                'response_format type must be one of "text" or "json_object", but got: ' + mode
            )
            return 500, {"error": {"code": 500, "message": message, "type": "server_error"}}
        if self.name == "LM Studio":
            return 400, {"error": "'response_format.type' must be 'json_schema' or 'text'"}
        what = "tools" if mode == "tools" else "response_format"
        return 400, {
            "error": {
                "message": f"Unsupported parameter: '{what}' is not supported with this model.",
                "type": "invalid_request_error",
                "param": what,
                "code": "unsupported_parameter",
            }
        }

    def refuse_object_schema(self) -> tuple[int, Any]:
        return 400, {
            "error": {
                "message": "Unknown parameter: 'response_format.schema'.",
                "type": "invalid_request_error",
                "param": "response_format.schema",
                "code": "unknown_parameter",
            }
        }

    def refuse_stream_options(self) -> tuple[int, Any]:
        return 400, {
            "error": {
                "message": "Unrecognized request argument supplied: stream_options",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }

    def refuse_context(self, prompt_tokens: int, max_tokens: int) -> tuple[int, Any] | None:
        """Status and body for a prompt beyond the context (None: it fits, or is cut)."""
        n_ctx = self.n_ctx
        if n_ctx is None or self.name == "Ollama":
            return None
        if self.name == "llama-cpp-python":
            if prompt_tokens <= n_ctx:  # it checks the prompt only; the reply stops at n_ctx
                return None
            message = (
                f"This model's maximum context length is {n_ctx} tokens. However, you "
                f"requested {prompt_tokens + max_tokens} tokens ({prompt_tokens} in the "
                f"messages, {max_tokens} in the completion). Please reduce the length of the "
                "messages or completion."
            )
            return 400, {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                }
            }
        if self.name.startswith("llama.cpp"):
            if prompt_tokens < n_ctx:
                return None
            return 400, {
                "error": {
                    "code": 400,
                    "message": f"request ({prompt_tokens} tokens) exceeds the available context "
                    f"size ({n_ctx} tokens), try increasing it",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": prompt_tokens,
                    "n_ctx": n_ctx,
                }
            }
        if prompt_tokens + max_tokens <= n_ctx:
            return None
        message = (
            f"This model's maximum context length is {n_ctx} tokens. However, you requested "
            f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, "
            f"{max_tokens} in the completion). Please reduce the length of the messages or "
            "completion."
        )
        if self.name == "vLLM":
            return 400, {
                "object": "error",
                "message": message,
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        return 400, {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        }


OPENAI = Server("OpenAI", "system", strict_only=True, object_schema="reject")
AZURE_OLD = Server("Azure OpenAI (older API version)", "system", stream_options="reject")
LLAMA_CPP_PYTHON = Server(
    "llama-cpp-python",
    "me",
    frozenset({"json_object", "text"}),
    n_ctx=2048,
    slots=1,
    object_schema="enforce",
    stream_options="ignore",
)
LLAMA_CPP = Server("llama.cpp", "llamacpp", n_ctx=4096, slots=2, object_schema="enforce")
LLAMA_CPP_OLD = Server(
    "llama.cpp (old)", "llamacpp", frozenset({"json_object", "text"}), object_schema="enforce"
)
JSON_ONLY = Server("json-mode-only", "someone", frozenset({"json_object", "text"}))
VLLM = Server("vLLM", "vllm", n_ctx=4096)
OLLAMA = Server("Ollama", "library", n_ctx=4096)
LM_STUDIO = Server("LM Studio", "organization_owner", frozenset({"json_schema", "text"}), 4096)
TOOLS_ONLY = Server("tools-only", "someone", frozenset({"tools", "text"}))
TEXT_ONLY = Server("text-only", "someone", frozenset({"text"}))
SERVERS = (
    OPENAI,
    AZURE_OLD,
    JSON_ONLY,
    LLAMA_CPP_PYTHON,
    LLAMA_CPP,
    LLAMA_CPP_OLD,
    VLLM,
    OLLAMA,
    LM_STUDIO,
    TOOLS_ONLY,
    TEXT_ONLY,
)
