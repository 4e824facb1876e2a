#!/usr/bin/env bash
# The selection kernel (src/scenario_selection.c) on its own, outside
# PostgreSQL, built with AddressSanitizer and UBSan (any overrun or signed
# overflow aborts): the UTF-16 hash of random valid and malformed UTF-8
# (overlong forms, surrogates, code points above U+10FFFF, truncated and
# stray bytes: inputs the server never passes, since it validates text, but
# the kernel must refuse them), and whole selections against the JavaScript
# reference (test/reference_selection.js, run on node).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=c99 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
   -Isrc src/scenario_selection.c test/selection_kernel.c -lm -o "$tmp/kernel"

TMP="$tmp" /usr/bin/python3 - <<'PY'
import json, os, random, subprocess, sys

tmp = os.environ["TMP"]
rng = random.Random(7)
M = 2147483647
status = 0

def report(ok, text):
    global status
    print(("ok - " if ok else "not ok - ") + text)
    status |= 0 if ok else 1

def ref_hash(data):
    # Python's strict UTF-8 decoder refuses overlongs, surrogates and
    # anything above U+10FFFF, as RFC 3629 says.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid"
    units = text.encode("utf-16-be")
    h = 0
    for i in range(0, len(units), 2):
        h = (h * 31 + int.from_bytes(units[i:i + 2], "big")) & 0xFFFFFFFF
    return str(h - (1 << 32) if h >= 1 << 31 else h)

def random_valid():
    cps = []
    for _ in range(rng.randint(0, 12)):
        r = rng.random()
        if r < 0.4:
            cps.append(rng.randint(1, 0x7F))
        elif r < 0.6:
            cps.append(rng.randint(0x80, 0x7FF))
        elif r < 0.8:
            cps.append(rng.choice([rng.randint(0x800, 0xD7FF), rng.randint(0xE000, 0xFFFF)]))
        else:
            cps.append(rng.randint(0x10000, 0x10FFFF))
    return "".join(map(chr, cps)).encode("utf-8")

special = [
    b"", b"def-1", b"cm5abc123", "😀".encode(), b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\x80",
    b"\xe2\x82", b"a\xf0\x9f\x98", b"\xc2", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf", b"\xc2\x80",
]
inputs = list(special)
for _ in range(20000):
    data = bytearray(random_valid())
    r = rng.random()
    if r < 0.3 and data:
        data[rng.randrange(len(data))] = rng.randrange(256)
    elif r < 0.4 and data:
        del data[rng.randrange(len(data)):]
    elif r < 0.5:
        data.insert(rng.randrange(len(data) + 1), rng.randrange(0x80, 0x100))
    inputs.append(bytes(data))

commands = ["hash " + d.hex() if d else "hash" for d in inputs]

# Whole selections, compared with the JavaScript reference.
cases = []
for _ in range(3000):
    n = rng.choice([1, 2, 3, rng.randint(1, 300)])
    pct = rng.choice([1, 50, 99, 100, rng.randint(1, 100)])
    seed = rng.choice([0, M, 2 * M, rng.randint(0, 2**31), rng.randint(0, 2**53 - 1),
                       rng.randint(535919512985 - 50, 535919512985 + 50)])
    cases.append((seed, pct, n))
    commands.append(f"select {seed} {pct} {n}")

out = subprocess.run([f"{tmp}/kernel"], input="\n".join(commands) + "\n",
                     capture_output=True, text=True)
report(out.returncode == 0, f"the kernel ran {len(commands)} commands under AddressSanitizer and UBSan"
       + ("" if out.returncode == 0 else f" (exit {out.returncode}: {out.stderr[-500:]})"))
lines = out.stdout.splitlines()
if len(lines) != len(commands) + 1:
    report(False, f"the kernel answered {len(lines)} lines for {len(commands)} commands")
    sys.exit(1)

hashes = lines[:len(inputs)]
bad = [(d, g, ref_hash(d)) for d, g in zip(inputs, hashes) if g != ref_hash(d)]
n_invalid = sum(1 for d in inputs if ref_hash(d) == "invalid")
report(not bad, f"hash of {len(inputs)} byte strings ({n_invalid} malformed UTF-8, refused) matches a strict decoder + UTF-16"
       + ("" if not bad else f"; first mismatch {bad[0][0]!r}: got {bad[0][1]}, expected {bad[0][2]}"))
report(hashes[1] == "95460457" and hashes[2] == "807018331", "public check values: def-1 95460457, cm5abc123 807018331")
report(lines[-1] == "seed_of_min 2147483648", "the seed of hash -2^31 is 2^31")

js_in = "\n".join(json.dumps({"ids": list(range(n)), "percentage": pct, "definitionId": "", "seed": seed})
                  for seed, pct, n in cases) + "\n"
js = subprocess.run(["node", "test/reference_selection.js"], input=js_in, capture_output=True, text=True, check=True)
mism = 0
degenerate_ok = True
for (seed, pct, n), got, exp in zip(cases, lines[len(inputs):-1], js.stdout.splitlines()):
    fields = got.split()
    target, degenerate, order = int(fields[0]), fields[1] == "1", [int(x) for x in fields[2:]]
    if order[:target] != json.loads(exp)["selected"]:
        mism += 1
    if seed <= 535919512985 and degenerate != (seed % M == 0):
        degenerate_ok = False
report(mism == 0, f"{len(cases)} selections match the JavaScript reference ({mism} differ)")
report(degenerate_ok, "a seed up to 535919512985 freezes the generator exactly when it is a multiple of 2147483647")
sys.exit(status)
PY
