"""A streamed chat completion, put back together.

Every call streams (``stream=True``; see :mod:`desktop.assess._client` for why): the server
sends ``chat.completion.chunk`` events over server-sent events, and :class:`Assembled` adds
up their deltas into what a non-streamed reply would have held — the content, a refusal, the
first tool call's arguments, the finish reason, the id and model — so that validation sees
exactly the same text either way.

Usage: OpenAI, vLLM, llama.cpp and Ollama send a last chunk with ``usage`` (and no choices)
when asked with ``stream_options: {"include_usage": true}``; llama-cpp-python ignores the
option and sends none. Then the counts are estimates, and say so: tokens out are the chunks
that carried text (those servers send one token a chunk), tokens in are the prompt's
characters over the model's characters per token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Assembled", "estimate_prompt_tokens", "from_completion"]


@dataclass
class Assembled:
    """The deltas of one streamed reply, added up."""

    id: str = ""
    model: str = ""
    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)  # the first tool call's
    tool_called: bool = False
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    chunks: int = 0  # chunks that carried text
    events: int = 0  # every chunk

    def add(self, chunk: Any) -> None:
        self.events += 1
        self.id = self.id or str(getattr(chunk, "id", "") or "")
        self.model = self.model or str(getattr(chunk, "model", "") or "")
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.prompt_tokens = getattr(usage, "prompt_tokens", None)
            self.completion_tokens = getattr(usage, "completion_tokens", None)
        for choice in getattr(chunk, "choices", None) or []:
            if getattr(choice, "index", 0) != 0:
                continue
            if choice.finish_reason:
                self.finish_reason = str(choice.finish_reason)
            delta = choice.delta
            if delta is None:
                continue
            carried = False
            if delta.content:
                self.content.append(delta.content)
                carried = True
            if getattr(delta, "refusal", None):
                self.refusal.append(str(delta.refusal))
                carried = True
            for call in getattr(delta, "tool_calls", None) or []:
                if getattr(call, "index", 0) != 0:
                    continue
                self.tool_called = True
                function = getattr(call, "function", None)
                if function is not None and function.arguments:
                    self.arguments.append(function.arguments)
                    carried = True
            self.chunks += int(carried)

    @property
    def text(self) -> str | None:
        return "".join(self.content) if self.content else None

    @property
    def refusal_text(self) -> str | None:
        return "".join(self.refusal) if self.refusal else None

    @property
    def tool_arguments(self) -> str | None:
        return "".join(self.arguments) if self.tool_called else None

    @property
    def started(self) -> bool:
        """Whether the server sent anything at all (llama-cpp-python sends nothing when the
        prompt does not fit: it ends a streamed reply without a chunk)."""
        return self.events > 0


def estimate_prompt_tokens(messages: list[Any], chars_per_token: float) -> int:
    """The prompt's tokens, estimated the way the budget counts (for servers without usage)."""
    chars = sum(len(str(m.get("content") or "")) for m in messages)
    # as the budget counts: + 10 % (evidence tokenizes worse than the sample the ratio was
    # measured on) and the chat template's tokens per message
    return math.ceil(chars / chars_per_token * 1.1) + 16 * len(messages)


def from_completion(completion: Any) -> Assembled:
    """A non-streamed completion in the shape of a streamed one."""
    got = Assembled(id=str(completion.id), model=str(completion.model))
    got.events = 1
    usage = completion.usage
    if usage is not None:
        got.prompt_tokens, got.completion_tokens = usage.prompt_tokens, usage.completion_tokens
    choice = completion.choices[0] if completion.choices else None
    if choice is None:
        got.refusal.append("no choices in the reply")
        got.finish_reason = "stop"
        return got
    got.finish_reason = str(choice.finish_reason)
    message = choice.message
    if message.content:
        got.content.append(message.content)
    if getattr(message, "refusal", None):
        got.refusal.append(str(message.refusal))
    calls = message.tool_calls or []
    function = getattr(calls[0], "function", None) if calls else None
    if function is not None:
        got.tool_called = True
        got.arguments.append(function.arguments or "")
    return got
