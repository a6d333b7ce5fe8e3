"""Token budgets: how much prompt fits the model's context, and splitting long evidence.

Counting: the model's own tokenizer is on the server, not on the laptop (a tokenizer library
would need the model's vocabulary file, which a school's server has and Flourish does not).
So the capabilities probe measures, once per endpoint and model, how many characters the
server's tokenizer puts in a token (llama.cpp, vLLM and llama-cpp-python tokenize on request),
and the budget counts ``characters / that ratio``, plus 10 % and a few tokens per message for
the chat template. Where the server cannot tokenize, 3 characters a token is assumed (English
runs at about 4 on every tokenizer we know of), which over-counts: safe, not tight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from desktop.assess._capabilities import SAFE_CHARS_PER_TOKEN

__all__ = ["Budget", "chunks"]

_TEMPLATE_TOKENS = 16  # chat template overhead per message, generously
_MARGIN = 64  # tokens never planned for


@dataclass(frozen=True)
class Budget:
    context: int  # the model's context length as the server runs it
    max_tokens: int  # the output limit sent with every call
    chars_per_token: float = SAFE_CHARS_PER_TOKEN

    @property
    def limit(self) -> int:
        """Tokens a prompt may use: what the reply does not need."""
        return self.context - self.max_tokens - _MARGIN

    def tokens(self, text: str) -> int:
        return math.ceil(len(text) / self.chars_per_token * 1.1) + _TEMPLATE_TOKENS

    def fits(self, tokens: int) -> bool:
        return tokens <= self.limit

    def chars_for(self, tokens: int) -> int:
        """About how many characters ``tokens`` can hold (the inverse of :meth:`tokens`)."""
        return max(0, int((tokens - _TEMPLATE_TOKENS) * self.chars_per_token / 1.1))


def chunks(text: str, size: int, overlap: float = 0.15) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, each overlapping the one before.

    Pieces end at a line break (else a space) where one is near, so a speaker's turn or a
    sentence is rarely cut; the overlap lets a quote that straddles a cut appear whole in one.
    """
    if len(text) <= size:
        return [text]
    step_back = int(size * overlap)
    out: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            half = start + size // 2
            cut = max(text.rfind("\n", half, end), text.rfind(" ", half, end))
            if cut > start:
                end = cut
        out.append(text[start:end])
        if end >= len(text):
            break
        nxt = end - step_back
        line = text.find("\n", nxt, end)  # start the next piece at a line start if one is near
        start = line + 1 if line != -1 else nxt
    return out
