#!/bin/sh
# straw term encode|decode|check: every subcommand, standard input, files,
# hex, every exit status and the exact messages.
#   term_cli_test.sh STRAW
set -u
straw=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect NAME STATUS STDOUT STDERR -- CMD...  (stdin from $tmp/in)
expect() {
	name=$1 want=$2 want_out=$3 want_err=$4
	shift 5
	"$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	got=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: status $got, want $want"; fail=1
	fi
	if [ "$out" != "$want_out" ]; then
		echo "FAIL $name: stdout '$out', want '$want_out'"; fail=1
	fi
	if [ "$err" != "$want_err" ]; then
		echo "FAIL $name: stderr '$err', want '$want_err'"; fail=1
	fi
}
input() { printf '%s' "$1" >"$tmp/in"; }
input ''

# encode: argument, standard input, -, hex and raw bytes.
expect encode-hex 0 8368027701616B00020102 '' -- \
	"$straw" term encode --hex '{a, [1,2]}'
"$straw" term encode '{a, [1,2]}' | od -An -tx1 | tr -d ' \n' >"$tmp/raw"
[ "$(cat "$tmp/raw")" = "8368027701616b00020102" ] ||
	{ echo "FAIL encode-raw: $(cat "$tmp/raw")"; fail=1; }
input '#{b => 2, a => 1}.'
expect encode-stdin 0 83740000000277016161017701626102 '' -- \
	"$straw" term encode --hex
expect encode-dash 0 83740000000277016161017701626102 '' -- \
	"$straw" term encode --hex -
input ''
expect encode-negative 0 8362FFFFFFFF '' -- "$straw" term encode --hex -1
expect encode-dashdash 0 8362FFFFFFFE '' -- \
	"$straw" term encode --hex -- -2
expect encode-syntax 1 '' \
	'straw term encode: syntax error in term text at byte 5' -- \
	"$straw" term encode --hex '{a, 1'
expect encode-empty 1 '' \
	'straw term encode: syntax error in term text at byte 0' -- \
	"$straw" term encode --hex ''

# decode: hex argument file, raw file, standard input.
printf '836802640001616C0000000262000003E862000007D06A\n' >"$tmp/t.hex"
expect decode-hex-file 0 '{a,"Ϩߐ"}' '' -- \
	"$straw" term decode --hex "$tmp/t.hex"
"$straw" term encode '{ok, <<"bin">>, 1.5, [a|b]}' >"$tmp/t.etf"
expect decode-raw-file 0 '{ok,<<"bin">>,1.5,[a|b]}' '' -- \
	"$straw" term decode "$tmp/t.etf"
cp "$tmp/t.etf" "$tmp/in"
expect decode-stdin 0 '{ok,<<"bin">>,1.5,[a|b]}' '' -- \
	"$straw" term decode
expect decode-stdin-dash 0 '{ok,<<"bin">>,1.5,[a|b]}' '' -- \
	"$straw" term decode -
input '8350000000A6789CCB61606010496160CD48CDC9C91FAC741600088832AF'
expect decode-compressed 0 \
	'[hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello,hello]' \
	'' -- "$straw" term decode --hex
input '8368026101 99'
expect decode-badtag 1 '' \
	'straw term decode: malformed term at byte 5: unknown term tag 0x99' \
	-- "$straw" term decode --hex
input '83680261'
expect decode-trunc 1 '' \
	'straw term decode: malformed term at byte 1: term truncated' \
	-- "$straw" term decode --hex
input '836100FF'
expect decode-trailing 1 '' \
	'straw term decode: malformed term at byte 3: trailing bytes after term' \
	-- "$straw" term decode --hex
input '826100'
expect decode-version 1 '' \
	'straw term decode: malformed term at byte 0: missing or wrong ETF version byte' \
	-- "$straw" term decode --hex
input '83 6G'
expect decode-badhex 1 '' \
	'straw term decode: invalid hex at character 4' \
	-- "$straw" term decode --hex
input '836'
expect decode-oddhex 1 '' \
	'straw term decode: invalid hex at character 2' \
	-- "$straw" term decode --hex
input '8350000000A6789CCB61606010496160CD48CDC9C91FAC741600088832AE'
expect decode-zlib 1 '' \
	'straw term decode: malformed term at byte 1: compressed term is corrupt' \
	-- "$straw" term decode --hex
input ''
expect decode-missing 1 '' \
	"straw term decode: cannot open $tmp/nope: No such file or directory" \
	-- "$straw" term decode "$tmp/nope"

# check: verdicts on standard output.
input '8368026101 6102'
expect check-ok 0 'straw term check: valid term, 7 bytes' '' -- \
	"$straw" term check --hex
expect check-file 0 'straw term check: valid term, 35 bytes' '' -- \
	"$straw" term check "$tmp/t.etf"
input '8368026101 99'
expect check-badtag 1 \
	'straw term check: malformed term at byte 5: unknown term tag 0x99 (STRAW_EBADTAG)' \
	'' -- "$straw" term check --hex
input '83680261'
expect check-trunc 1 \
	'straw term check: malformed term at byte 1: term truncated (STRAW_ETRUNC)' \
	'' -- "$straw" term check --hex -
input 'xyz'
expect check-badhex 1 'straw term check: invalid hex at character 0' '' \
	-- "$straw" term check --hex

# usage errors: status 2, message on standard error.
input ''
expect usage-none 2 '' "$("$straw" term --help)" -- "$straw" term
expect usage-sub 2 '' \
	"straw term: unknown subcommand 'frob' (see 'straw term --help')" \
	-- "$straw" term frob
expect usage-opt 2 '' \
	"straw term decode: unknown option '--x' (see 'straw term --help')" \
	-- "$straw" term decode --x
expect usage-opt-short 2 '' \
	"straw term check: unknown option '-q' (see 'straw term --help')" \
	-- "$straw" term check -q
expect usage-many 2 '' \
	"straw term encode: too many arguments (see 'straw term --help')" \
	-- "$straw" term encode a b
expect usage-many-dashdash 2 '' \
	"straw term encode: too many arguments (see 'straw term --help')" \
	-- "$straw" term encode -- a b

# help: status 0 on standard output, documents the exit statuses.
"$straw" term --help >"$tmp/help" 2>&1 || { echo "FAIL help status"; fail=1; }
grep -q '^Exit status: 0 success, 1 invalid input' "$tmp/help" ||
	{ echo "FAIL help text"; fail=1; }
"$straw" term decode --help >"$tmp/help2" 2>&1 ||
	{ echo "FAIL sub help status"; fail=1; }
cmp -s "$tmp/help" "$tmp/help2" || { echo "FAIL sub help text"; fail=1; }
"$straw" --help | grep -q '^  term ' || { echo "FAIL straw --help"; fail=1; }

# Round trip through the command: text -> ETF -> text -> ETF.
"$straw" term encode '{x, [1.0e300, -0.0, <<1,2:3>>, #{k => "v"}]}' \
	>"$tmp/a.etf"
"$straw" term decode "$tmp/a.etf" >"$tmp/a.txt"
"$straw" term encode - <"$tmp/a.txt" >"$tmp/b.etf"
cmp -s "$tmp/a.etf" "$tmp/b.etf" || { echo "FAIL round trip"; fail=1; }
[ "$(cat "$tmp/a.txt")" = '{x,[1.0e300,-0.0,<<1,2:3>>,#{k => "v"}]}' ] ||
	{ echo "FAIL round trip text: $(cat "$tmp/a.txt")"; fail=1; }

[ $fail = 0 ] && echo "term_cli_test: all passed"
exit $fail
