#!/bin/sh
# The registry commands against a real strawd in a private directory:
# output of ls -r / --json / read / watch / status, exit codes, and the
# message when strawd is not running and autostart is off.
# Waits are on events (strawd --daemon returns once it serves; a fifo line;
# flock on strawd's lock), never on sleeps.
set -u
straw=$1 strawd=$2
fail=0
D=$(mktemp -d /tmp/straw-clitest-XXXXXX)
export STRAW_DIR="$D" STRAW_AUTOSTART=0 STRAW_STRAWD="$strawd"
me=$(id -u)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null &&
		timeout 10 flock "$D/strawd.lock" true
	rm -rf "$D"
}
trap cleanup EXIT

check() { # check NAME WANT GOT
	if [ "$2" != "$3" ]; then
		printf 'FAIL: %s\n--- want\n%s\n--- got\n%s\n' "$1" "$2" "$3"
		fail=1
	fi
}
status_of() { "$@" >/dev/null 2>&1; echo $?; }

# Not running, autostart off: every command says so and how to start it.
for cmd in "status" "ls" "read /x" "write /x 1" "rm /x" "watch /x" "ps"; do
	# shellcheck disable=SC2086
	err=$("$straw" $cmd 2>&1 >/dev/null); rc=$?
	check "$cmd exit without strawd" 1 "$rc"
	case $err in
	*"strawd is not running"*"strawd --daemon"*) ;;
	*) echo "FAIL: '$cmd' message: $err"; fail=1 ;;
	esac
done
[ -e "$D/strawd.sock" ] && { echo "FAIL: something started strawd"; fail=1; }

"$strawd" --daemon 2>"$D/strawd.err" || { echo "FAIL: strawd --daemon"; exit 1; }
pid=$(cat "$D/strawd.lock")
# A second one refuses and names the first.
err=$("$strawd" --daemon 2>&1); rc=$?
check "second strawd exit" 1 "$rc"
case $err in *"already running as pid $pid"*) ;; *) echo "FAIL: second strawd: $err"; fail=1 ;; esac

out=$("$straw" status); check "status exit" 0 $?
case $out in *"strawd is running"*"pid          $pid"*"directory    $D"*) ;; *) echo "FAIL: status: $out"; fail=1 ;; esac
out=$("$straw" status --json)
case $out in '{"running":true,"pid":'"$pid"',"machine":"'*) ;; *) echo "FAIL: status --json: $out"; fail=1 ;; esac

"$straw" write /demo/a 1 && "$straw" write /demo/b/c "two words" &&
	"$straw" write /demo/q 'say "hi"' || { echo "FAIL: write"; fail=1; }
check "ls -r" "a = \"1\"  (owner $me, read -, write -)
b = \"\"  (owner $me, read -, write -)
  c = \"two words\"  (owner $me, read -, write -)
q = \"say \\\"hi\\\"\"  (owner $me, read -, write -)" "$("$straw" ls -r /demo)"
check "ls" "a = \"1\"  (owner $me, read -, write -)
b = \"\"  (owner $me, read -, write -)
q = \"say \\\"hi\\\"\"  (owner $me, read -, write -)" "$("$straw" ls /demo)"
check "ls -r --json" '[{"name":"a","path":"/demo/a","value":"1","owner":'$me',"read":[],"write":[],"children":[]},{"name":"b","path":"/demo/b","value":"","owner":'$me',"read":[],"write":[],"children":[{"name":"c","path":"/demo/b/c","value":"two words","owner":'$me',"read":[],"write":[],"children":[]}]},{"name":"q","path":"/demo/q","value":"say \"hi\"","owner":'$me',"read":[],"write":[],"children":[]}]' "$("$straw" ls -r --json /demo)"
check "ls -r / shows the machine" "$("$straw" read /machine/id)" \
	"$("$straw" ls -r / | sed -n 's/^  id = "\(.*\)".*/\1/p')"
check "read" "two words" "$("$straw" read /demo/b/c)"
err=$("$straw" read /demo/none 2>&1); rc=$?
check "read missing exit" 1 "$rc"
check "read missing message" "straw read: /demo/none: No such file or directory" "$err"
err=$("$straw" write /a/../b x 2>&1); rc=$?
check "bad path exit" 1 "$rc"
check "bad path message" "straw write: /a/../b: invalid registry path" "$err"
check "usage exit" 2 "$(status_of "$straw" write /only-path)"
check "unknown option exit" 2 "$(status_of "$straw" ls --bogus)"
check "rm" 0 "$(status_of "$straw" rm /demo/b)"
check "rm again" 1 "$(status_of "$straw" rm /demo/b)"
check "ls after rm" "a = \"1\"  (owner $me, read -, write -)
q = \"say \\\"hi\\\"\"  (owner $me, read -, write -)" "$("$straw" ls /demo)"

# watch: prints each changed path until it has seen -n of them.
fifo="$D/watch.fifo"
mkfifo "$fifo"
"$straw" watch -n 3 /demo >"$D/watch.out" 2>"$fifo" &
wpid=$!
ready=$(timeout 10 head -n 1 "$fifo")
check "watch ready" "watching /demo" "$ready"
"$straw" write /demo/x 1 && "$straw" write /demo/x 2 && "$straw" rm /demo/a
wait "$wpid"; check "watch exit" 0 $?
check "watch output" "/demo/x
/demo/x
/demo/a" "$(cat "$D/watch.out")"

# Without -n it runs until interrupted, then exits 0.
fifo2="$D/watch2.fifo"
mkfifo "$fifo2"
"$straw" watch /demo >/dev/null 2>"$fifo2" &
wpid=$!
check "watch ready (2)" "watching /demo" "$(timeout 10 head -n 1 "$fifo2")"
kill -INT "$wpid"
wait "$wpid"; check "watch exit on SIGINT" 0 $?

out=$("$straw" ps)
check "ps header" "ID     NAME                 PID      UID    AGE    NAMES" "$(echo "$out" | sed -n 1p)"
check "ps strawd" "0 strawd $pid $me -" "$(echo "$out" | sed -n 2p | awk '{print $1, $2, $3, $4, $6}')"
check "ps lines" 2 "$(echo "$out" | wc -l)"
check "ps unknown container" "straw ps: no container 'nosuch'" "$("$straw" ps nosuch 2>&1)"
check "ps unknown container exit" 1 "$(status_of "$straw" ps nosuch)"
check "ps --json CONTAINER exit" 2 "$(status_of "$straw" ps --json nosuch)"
case $("$straw" ps --json) in
'[{"id":0,"name":"strawd","pid":'$pid',"uid":'$me',"started":'*',"names":{}}]') ;;
*) echo "FAIL: ps --json"; fail=1 ;;
esac

kill "$pid"
timeout 10 flock "$D/strawd.lock" true; check "strawd stopped" 0 $?
pid=
[ -e "$D/strawd.sock" ] && { echo "FAIL: socket left behind"; fail=1; }
exit $fail
