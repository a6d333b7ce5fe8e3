#!/usr/bin/env bash
# Smoke test of the packaged app: build it, then run the FROZEN program (never the source).
#
#   packaging/smoke.sh               build (packaging/build.sh), then test dist/flourish/
#   packaging/smoke.sh --no-build    test the dist/flourish/ that is there
#   packaging/smoke.sh --onefile     also build and test dist/flourish-onefile
#   packaging/smoke.sh --program .venv/bin/flourish
#                                    the same steps with another program (e.g. from source,
#                                    where building is too slow), without the bundle's own
#                                    checks (libraries, read-only folder, archive)
#
# What it checks, each with its exit code and output (any failure stops it, exit 1):
#   * `flourish --version` equals pyproject's version;
#   * every shared library in the bundle resolves (bar the desktop's own Wayland libraries);
#   * `flourish demo --quit-after-paint` opens the main window on the demo store and quits
#     after the first paint: offscreen, on X11 (when Xvfb is installed) and, when
#     run as root, as an unprivileged user;
#   * `flourish report` writes a PDF offscreen (QtGui's PDF writer, SVG badges);
#   * the central server as packaging/server/README.md sets it up: a throwaway PostgreSQL
#     15 (TLS on, the kit's pg_hba.conf), IT's login, `server init --demo`,
#     `server add-service-login`, `server add-teacher` (the teacher's name
#     as a database login is refused), then the program's own `server serve` on 127.0.0.1 with
#     a self-signed certificate, and the laptop: `login` refused without `--ca-cert`,
#     `login --ca-cert`, `sync`, `import evidence` and `correct` pushed by a second `sync`
#     and found on the server, `status`; the service's log holds no device token;
#   * `assess` against the test suite's fake OpenAI-compatible server (openai + httpx);
#   * the .tar.gz archive unpacks, its install.sh --user installs a working `flourish` and a
#     menu entry naming it, and --uninstall removes them;
#   * the program writes nothing into its own folder: dist/flourish is made read-only
#     (chmod -R a-w, its modes restored at the end) and its listing is compared before
#     and after;
#     data goes to platformdirs locations under a throwaway HOME.
# The PostgreSQL and fake-AI servers are test helpers run from the source tree (.venv).
# CI runs this only when FLOURISH_PACKAGING_SMOKE=1 (see .ci/run and packaging/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${PYTHON:-.venv/bin/python}"

build=1
onefile=0
program=""
while [ $# -gt 0 ]; do
  arg=$1
  shift
  case "$arg" in
    --no-build) build=0 ;;
    --onefile) onefile=1 ;;
    --program)
      [ $# -gt 0 ] || { echo "smoke.sh: --program needs a path" >&2; exit 2; }
      program=$(readlink -f "$1")
      shift
      build=0
      ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "smoke.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

started=$SECONDS
if [ "$build" = 1 ]; then
  if [ "$onefile" = 1 ]; then bash packaging/build.sh --onefile; else bash packaging/build.sh; fi
fi

DIST="$ROOT/dist/flourish"
APP="$DIST/flourish"
bundle=1
if [ -n "$program" ]; then
  APP="$program"
  bundle=0
  [ "$onefile" = 0 ] || { echo "smoke.sh: --onefile tests the bundle, not --program" >&2; exit 2; }
fi
[ -x "$APP" ] || { echo "smoke.sh: no $APP: run packaging/build.sh first" >&2; exit 1; }

WORK="$(mktemp -d /tmp/flourish-smoke.XXXXXX)"
chmod 755 "$WORK"
HOME_DIR="$WORK/home"
mkdir -p "$HOME_DIR"
PG_PID=""
AI_PID=""
XVFB_PID=""
SVC_PID=""

restore_modes() {  # undo the read-only step exactly, from the modes saved before it
  if [ -f "$WORK/modes" ]; then
    while IFS=$'\t' read -r mode path; do chmod "$mode" "$path"; done <"$WORK/modes"
    rm -f "$WORK/modes"
  fi
}

cleanup() {
  restore_modes 2>/dev/null || true
  for pid in "$SVC_PID" "$PG_PID" "$AI_PID" "$XVFB_PID"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# -- helpers ---------------------------------------------------------------------------

out=""
# step NAME WANTED_EXIT_CODE COMMAND...: run it, keep its output in $out, check the code.
step() {
  local name=$1 want=$2 rc=0 t0 t1
  shift 2
  t0=$(date +%s%N)
  out="$("$@" 2>&1)" || rc=$?
  t1=$(date +%s%N)
  local secs
  secs=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e9 }')
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit code $rc, wanted $want (${secs} s)"
    sed 's/^/   | /' <<<"$out"
    exit 1
  fi
  printf 'ok   %-58s %6s s\n' "$name" "$secs"
}

# expect TEXT: the last step's output contains TEXT.
expect() {
  if ! grep -qF -- "$1" <<<"$out"; then
    echo "FAIL the output lacks: $1"
    sed 's/^/   | /' <<<"$out"
    exit 1
  fi
}

# fz [VAR=VALUE...] ARGS...: the frozen program in a clean environment (no PYTHONPATH, no
# FLOURISH_DATA_DIR, no D-Bus session, no DISPLAY) with a throwaway HOME, offscreen Qt and a
# time limit.
FZ_APP="$APP"
fz() {
  local vars=()
  while [ $# -gt 0 ] && [[ $1 == [A-Z]*=* ]]; do
    vars+=("$1")
    shift
  done
  timeout 120 env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$HOME_DIR" \
    LANG=C.UTF-8 TZ=UTC QT_QPA_PLATFORM=offscreen "${vars[@]}" "$FZ_APP" "$@"
}

listing() {  # what is in the bundle: path, size, modification time
  find "$DIST" -printf '%P %s %T@\n' | sort
}

# -- the program -----------------------------------------------------------------------

if [ "$bundle" = 1 ]; then echo "== frozen program: $APP"; else echo "== program (not the bundle): $APP"; fi
want="flourish $("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
step "--version" 0 fz --version
[ "$out" = "$want" ] || { echo "FAIL --version printed '$out', pyproject says '$want'"; exit 1; }

if [ "$bundle" = 1 ]; then
  missing="$(
    export LD_LIBRARY_PATH="$DIST/_internal:$DIST/_internal/PySide6/Qt/lib"
    find "$DIST" -name '*.so*' -type f -exec ldd {} \; 2>/dev/null | grep 'not found' |
      grep -v -E 'libwayland-(client|cursor|egl)\.so' | sort -u || true
  )"
  if [ -n "$missing" ]; then
    echo "FAIL bundled libraries with unresolved dependencies:"
    sed 's/^/   | /' <<<"$missing"
    exit 1
  fi
  printf 'ok   %-58s\n' "every bundled library resolves (Wayland's come with the desktop)"

  # From here on the bundle is read-only; nothing may change in it.
  find "$DIST" ! -type l -printf '%m\t%p\n' >"$WORK/modes"
  chmod -R a-w "$DIST"
  listing >"$WORK/listing-before"
else
  echo "skip the bundle's libraries and read-only folder: --program"
fi

DATA="$HOME_DIR/.local/share/Flourish"
step "demo --quit-after-paint (offscreen)" 0 fz demo --quit-after-paint
[ -f "$DATA/Demo/flourish.sqlite3" ] || { echo "FAIL no demo store in $DATA/Demo"; exit 1; }
printf 'ok   %-58s\n' "demo store in platformdirs' folder (~/.local/share/Flourish/Demo)"

if command -v Xvfb >/dev/null; then
  # A real X server, started here so the clean environment gets only its DISPLAY.
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
  XVFB_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/display" ] && break; sleep 0.1; done
  [ -s "$WORK/display" ] || { echo "FAIL Xvfb did not start"; cat "$WORK/xvfb.log"; exit 1; }
  step "demo --keep --quit-after-paint (X11, Xvfb)" 0 \
    fz DISPLAY=":$(head -1 "$WORK/display")" QT_QPA_PLATFORM=xcb demo --keep --quit-after-paint
  kill "$XVFB_PID"
  wait "$XVFB_PID" 2>/dev/null || true
  XVFB_PID=""
else
  echo "skip demo on X11: Xvfb is not installed (Debian package xvfb)"
fi

if [ "$(id -u)" = 0 ] && [ "$bundle" = 1 ]; then
  # As root, file permissions do not stop writes; run once as a user they do stop.
  mkdir -p "$WORK/nobody"
  chown nobody "$WORK/nobody"
  step "demo --quit-after-paint as user nobody (read-only bundle)" 0 \
    runuser -u nobody -- timeout 120 env -i PATH=/usr/bin:/bin HOME="$WORK/nobody" LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen "$APP" demo --quit-after-paint
fi

step "report S001 --out S001.pdf (offscreen)" 0 fz --data-dir "$DATA/Demo" report S001 --out "$WORK/S001.pdf"
expect "report written to"
[ "$(head -c 5 "$WORK/S001.pdf")" = "%PDF-" ] || { echo "FAIL S001.pdf is not a PDF"; exit 1; }

# -- the AI client (openai, httpx) against the test suite's fake server ----------------

"$PY" -m tests.support.fake_openai >"$WORK/ai.log" 2>&1 &
AI_PID=$!
for _ in $(seq 100); do grep -q "endpoint at" "$WORK/ai.log" 2>/dev/null && break; sleep 0.1; done
ai_url="$(grep -o 'http://[^ ]*' "$WORK/ai.log" | head -1)"
[ -n "$ai_url" ] || { echo "FAIL the fake AI server did not start"; cat "$WORK/ai.log"; exit 1; }
step "assess --limit 1 (fake OpenAI-compatible server)" 0 \
  fz OPENAI_BASE_URL="$ai_url" OPENAI_API_KEY=sk-smoke --data-dir "$DATA/Demo" assess --limit 1
expect "1 entries assessed"
kill "$AI_PID"
wait "$AI_PID" 2>/dev/null || true
AI_PID=""

# -- the central server, set up as packaging/server/README.md says ---------------------

echo "== PostgreSQL 15 with TLS and the kit's pg_hba.conf"
"$PY" packaging/smoke_server.py "$WORK/pg.env" >"$WORK/pg.log" 2>&1 &
PG_PID=$!
for _ in $(seq 600); do
  [ -f "$WORK/pg.env" ] && break
  kill -0 "$PG_PID" 2>/dev/null || { echo "FAIL PostgreSQL did not start"; cat "$WORK/pg.log"; exit 1; }
  sleep 0.1
done
[ -f "$WORK/pg.env" ] || { echo "FAIL PostgreSQL did not start in 60 s"; cat "$WORK/pg.log"; exit 1; }
# shellcheck disable=SC1091
. "$WORK/pg.env"

# The database administrator's part (the guide's `sudo -u postgres ...` steps).
dba() { "$PG_BINDIR/psql" -h "$PG_SOCKDIR" -p "$PG_PORT" -U "$PG_SUPERUSER" -v ON_ERROR_STOP=1 -Atq "$@"; }
IT_PASS="it-smoke-password-1"
SVC_PASS="svc-smoke-password-1"
TEACHER_PASS="teacher-smoke-password-1"
step "DBA: IT's login (CREATEROLE) and the database" 0 sh -c "
  '$PG_BINDIR/psql' -h '$PG_SOCKDIR' -p '$PG_PORT' -U '$PG_SUPERUSER' -v ON_ERROR_STOP=1 -q -d postgres \
    -c \"CREATE ROLE flourish_it LOGIN CREATEROLE PASSWORD '$IT_PASS'\" &&
  '$PG_BINDIR/createdb' -h '$PG_SOCKDIR' -p '$PG_PORT' -U '$PG_SUPERUSER' -O flourish_it flourish"

tls="sslmode=verify-full&sslrootcert=$PG_CA"
IT_URL="postgresql://flourish_it:$IT_PASS@127.0.0.1:$PG_PORT/flourish?$tls"

# The first installation runs as IT's own CREATEROLE login, not a superuser (the guide's
# step 5); the second one is an idempotent no-op.
step "server init --demo (first installation, as IT's login)" 0 fz server init --db "$IT_URL" --demo
expect "schema empty -> "
step "server init (again, as IT's login: idempotent)" 0 fz server init --db "$IT_URL"
expect "schema already at"
step "server add-service-login --login flourish_svc" 0 \
  fz FLOURISH_PASSWORD="$SVC_PASS" server add-service-login --db "$IT_URL" --login flourish_svc
expect "service login flourish_svc created"
step "server add-teacher T001 rodriguez" 0 \
  fz server add-teacher --db "$IT_URL" --id T001 --login rodriguez <<<"$TEACHER_PASS"
expect "T001"
step "a teacher's database login is refused (pg_hba.conf)" 2 \
  env PGPASSWORD="$TEACHER_PASS" PGCONNECT_TIMEOUT=10 "$PG_BINDIR/psql" \
  "host=127.0.0.1 port=$PG_PORT dbname=flourish user=rodriguez sslmode=verify-full sslrootcert=$PG_CA" -c "SELECT 1"
expect "no pg_hba.conf entry"

echo "== the service: server serve on 127.0.0.1 with a self-signed certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$WORK/service.key" -out "$WORK/service.crt" 2>/dev/null
chmod 600 "$WORK/service.key"
SVC_PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
SERVICE="https://127.0.0.1:$SVC_PORT"
# No time limit (it serves until the end); `env` replaces itself with the program, so
# SVC_PID is the service's own process.
env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$HOME_DIR" LANG=C.UTF-8 TZ=UTC \
  PGPASSWORD="$SVC_PASS" "$FZ_APP" --data-dir "$WORK/service-data" server serve \
  --db "postgresql://flourish_svc@127.0.0.1:$PG_PORT/flourish?$tls" \
  --bind "127.0.0.1:$SVC_PORT" --tls-cert "$WORK/service.crt" --tls-key "$WORK/service.key" \
  >"$WORK/service.log" 2>&1 &
SVC_PID=$!
ready=0
for _ in $(seq 300); do
  kill -0 "$SVC_PID" 2>/dev/null || { echo "FAIL the service exited"; cat "$WORK/service.log"; exit 1; }
  if curl -sf --cacert "$WORK/service.crt" "$SERVICE/readyz" >"$WORK/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
[ "$ready" = 1 ] || { echo "FAIL the service did not get ready"; cat "$WORK/service.log"; exit 1; }
printf 'ok   %-58s\n' "server serve: $SERVICE/readyz answers $(head -c 40 "$WORK/readyz")"

step "login without --ca-cert is refused (certificate not trusted)" 1 \
  fz FLOURISH_PASSWORD="$TEACHER_PASS" --data-dir "$WORK/untrusted" login --server "$SERVICE" --user rodriguez
expect "certificate"
step "login --server $SERVICE --user rodriguez --ca-cert" 0 \
  fz FLOURISH_PASSWORD="$TEACHER_PASS" login --server "$SERVICE" --user rodriguez --ca-cert "$WORK/service.crt"
expect "signed in as teacher T001"
# No desktop keyring here (no D-Bus session): the token is shown once, nothing in a file.
expect "no system keyring here: set FLOURISH_TOKEN="
TOKEN="$(grep -o 'FLOURISH_TOKEN=flt_[A-Za-z0-9_-]*' <<<"$out" | cut -d= -f2)"
[ -n "$TOKEN" ] || { echo "FAIL no device token in the login's output"; exit 1; }
[ ! -e "$HOME_DIR/.local/share/python_keyring" ] || { echo "FAIL a file keyring was written"; exit 1; }
[ -f "$DATA/flourish.sqlite3" ] || { echo "FAIL no teacher store in $DATA"; exit 1; }

step "sync (first: pulls the teacher's rows)" 0 fz FLOURISH_TOKEN="$TOKEN" sync
expect "pulled "
pulled="$(grep -o 'pulled [0-9]* row' <<<"$out")"

printf 'Asked a partner to explain the plan again, then checked the notes before starting.\n' \
  >"$WORK/observation.txt"
step "import evidence (a teacher's observation note)" 0 fz import evidence "$WORK/observation.txt" \
  --student S001 --type teacher_observation_note --date 2026-12-01
step "list assessments --pending --json" 0 fz list assessments --pending --json
assessment="$("$PY" -c 'import json, sys; print(json.loads(sys.stdin.read())[0]["id"])' <<<"$out")"
step "correct $assessment --level Advanced" 0 fz correct "$assessment" --level Advanced --notes "smoke test"
step "sync (pushes the evidence and the correction)" 0 fz FLOURISH_TOKEN="$TOKEN" sync
expect "pushed 2 change(s)"
step "the correction is on the server" 0 dba -d flourish -c \
  "SELECT corrected_level FROM teacher_corrections WHERE assessment_id = $assessment"
expect "Advanced"
step "the evidence is on the server" 0 dba -d flourish -c \
  "SELECT student_id, type FROM data_entries WHERE content LIKE 'Asked a partner to explain%'"
expect "S001|teacher_observation_note"
step "status --json" 0 fz FLOURISH_TOKEN="$TOKEN" status --json
expect '"pending": 0'
expect '"server_reachable": true'
if grep -qF "$TOKEN" "$WORK/service.log"; then
  echo "FAIL the service's log holds the device token"
  exit 1
fi
printf 'ok   %-58s\n' "the service's log holds no device token"
kill "$SVC_PID"
wait "$SVC_PID" 2>/dev/null || true
SVC_PID=""

# -- the Linux archive and its installer ------------------------------------------------

archive="$(ls dist/flourish-*-linux-*.tar.gz 2>/dev/null | head -1 || true)"
[ "$bundle" = 1 ] || archive=""
if [ -n "$archive" ]; then
  echo "== archive: $archive"
  mkdir -p "$WORK/unpack" "$WORK/inst"
  step "unpack the archive" 0 tar -C "$WORK/unpack" -xzf "$archive"
  unpacked="$(find "$WORK/unpack" -mindepth 1 -maxdepth 1 -type d | head -1)"
  for f in flourish/flourish flourish.desktop flourish.png flourish.svg install.sh; do
    [ -e "$unpacked/$f" ] || { echo "FAIL the archive lacks $f"; exit 1; }
  done
  step "install.sh --user" 0 env HOME="$WORK/inst" PATH="/usr/bin:/bin" "$unpacked/install.sh" --user
  expect "installed in $WORK/inst/.local/opt/flourish"
  step "installed flourish --version" 0 env -i HOME="$WORK/inst" "$WORK/inst/.local/bin/flourish" --version
  [ "$out" = "$want" ] || { echo "FAIL the installed program printed '$out'"; exit 1; }
  grep -qx "Exec=$WORK/inst/.local/opt/flourish/flourish app" "$WORK/inst/.local/share/applications/flourish.desktop" ||
    { echo "FAIL the installed menu entry does not name the program"; exit 1; }
  if command -v desktop-file-validate >/dev/null; then
    step "desktop-file-validate (the installed menu entry)" 0 \
      desktop-file-validate "$WORK/inst/.local/share/applications/flourish.desktop"
  fi
  step "install.sh --uninstall --user" 0 env HOME="$WORK/inst" PATH="/usr/bin:/bin" "$unpacked/install.sh" --uninstall --user
  [ ! -e "$WORK/inst/.local/bin/flourish" ] || { echo "FAIL uninstall left the command"; exit 1; }
elif [ "$bundle" = 1 ]; then
  echo "skip the archive: no dist/flourish-*-linux-*.tar.gz"
else
  echo "skip the archive: --program"
fi

# -- nothing written into the bundle ---------------------------------------------------

if [ "$bundle" = 1 ]; then
  listing >"$WORK/listing-after"
  if ! diff -u "$WORK/listing-before" "$WORK/listing-after" >"$WORK/listing.diff"; then
    echo "FAIL the program changed its own folder:"
    sed 's/^/   | /' "$WORK/listing.diff" | head -40
    exit 1
  fi
  printf 'ok   %-58s\n' "nothing was written into dist/flourish (read-only, listing unchanged)"
  restore_modes
fi

if [ "$onefile" = 1 ]; then
  echo "== one-file program: dist/flourish-onefile"
  FZ_APP="$ROOT/dist/flourish-onefile"
  step "--version (onefile)" 0 fz --version
  [ "$out" = "$want" ] || { echo "FAIL --version printed '$out'"; exit 1; }
  step "demo --quit-after-paint (onefile, offscreen)" 0 fz demo --quit-after-paint
fi

echo "== smoke passed in $((SECONDS - started)) s"
if [ "$bundle" = 1 ]; then
  echo "bundle  $(du -sh "$DIST" | cut -f1)  ($(find "$DIST" -type f | wc -l) files)"
  for f in dist/flourish-*.tar.gz; do [ -f "$f" ] && echo "archive $(du -h "$f" | cut -f1)  $f"; done
fi
echo "sync    first sync through the service: ${pulled#pulled }s"
