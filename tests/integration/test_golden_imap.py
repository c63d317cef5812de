"""Golden IMAP transcripts for the tricky parts (QRESYNC resync, MOVE and
EXPUNGE seen by another session, literals): tests/golden/imap/NAME.in is a
script played against a fresh server over IMAPS, its transcript compared
with NAME.ref. Run with REDOUBT_GOLDEN_UPDATE=1 to write missing .ref files
(then read them before committing).

Script lines (one per line, "#" comments):
  A: TAG COMMAND ...     send on session A (logged in as alice on first
                         use), read up to TAG's completion; a line ending
                         in a synchronizing literal {n} reads up to "+",
                         one ending in {n+} reads nothing yet
  A+ DATA                send DATA (the literal and the rest of the
                         command line; \r \n escapes), read up to the
                         pending TAG's end
  A: DONE                ends IDLE: reads up to the IDLE command's end
  @save NAME             remembers A's last HIGHESTMODSEQ as $NAME
Every session's last UIDVALIDITY is $UIDVALIDITY. Numbers that differ
from run to run (UIDVALIDITY, MODSEQs, object ids, dates) are masked in
the transcript."""
import glob
import os
import re

import pytest

import helpers
from helpers import ALICE, ALICE_PW, Line

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "imap")
CASES = sorted(glob.glob(os.path.join(GOLDEN, "*.in")))

MASKS = [
    (rb"UIDVALIDITY \d+", b"UIDVALIDITY N"),
    (rb"(HIGHESTMODSEQ|MODSEQ) \(?\d+\)?", lambda m: m.group(1) + b" N"),
    (rb"(APPENDUID|COPYUID) \d+", lambda m: m.group(1) + b" V"),
    (rb"(MAILBOXID|EMAILID) \([A-Za-z0-9_-]+\)", lambda m: m.group(1) + b" (ID)"),
    (rb'INTERNALDATE "[^"]*"', b'INTERNALDATE "D"'),
    (rb"\(QRESYNC \(\d+ \d+", b"(QRESYNC (V N"),
    (rb"CHANGEDSINCE \d+", b"CHANGEDSINCE N"),
]


def mask(line):
    for pat, rep in MASKS:
        line = re.sub(pat, rep, line)
    return line


class Play:
    def __init__(self, server):
        self.server = server
        self.conns = {}
        self.pending = {}
        self.idle_tag = {}
        self.vars = {}
        self.last_modseq = {}
        self.out = []

    def conn(self, name):
        if name not in self.conns:
            c = Line(self.server.ports["imaps"], tls=True)
            c.line()
            c.send(b'x LOGIN "%s" "%s"\r\n' % (ALICE.encode(), ALICE_PW.encode()))
            assert c.tagged(b"x")[-1].startswith(b"x OK")
            self.conns[name] = c
        return self.conns[name]

    def read_until(self, name, done):
        c = self.conns[name]
        while True:
            ln = c.line()
            if ln == b"":
                self.out.append(b"%s< (closed)" % name.encode())
                return
            m = re.search(rb"HIGHESTMODSEQ (\d+)", ln)
            if m:
                self.last_modseq[name] = m.group(1).decode()
            m = re.search(rb"UIDVALIDITY (\d+)", ln)
            if m:
                self.vars["UIDVALIDITY"] = m.group(1).decode()
            self.out.append(b"%s< %s" % (name.encode(), mask(ln)))
            if done(ln):
                return

    def subst(self, text):
        return re.sub(r"\$([A-Z0-9_]+)", lambda m: self.vars[m.group(1)], text)

    def step(self, line):
        if line.startswith("@save "):
            name = line.split()[1]
            self.vars[name] = self.last_modseq["A"]
            return
        who, kind, rest = line[0], line[1], line[3:]
        rest = self.subst(rest)
        c = self.conn(who)
        data = rest.encode()
        if kind == "+":
            data = data.replace(b"\\r", b"\r").replace(b"\\n", b"\n")
        self.out.append(b"%s%s %s" % (who.encode(), kind.encode(),
                                      mask(data).replace(b"\r\n", b"\\r\\n")))
        if kind == "+":
            c.send(data + b"\r\n")
            tag = self.pending.pop(who)
            self.read_until(who, lambda ln: ln.startswith(tag + b" "))
            return
        c.send(data + b"\r\n")
        if data == b"DONE":
            tag = self.idle_tag.pop(who)
            self.read_until(who, lambda ln: ln.startswith(tag + b" "))
            return
        tag = data.split(b" ", 1)[0]
        words = data.split()
        if len(words) > 1 and words[1].upper() == b"IDLE":
            self.idle_tag[who] = tag
            self.read_until(who, lambda ln: ln.startswith(b"+ "))
        elif re.search(rb"\{\d+\+\}$", data):
            self.pending[who] = tag   # LITERAL+: the data follows at once
        elif re.search(rb"\{\d+\}$", data):
            self.pending[who] = tag
            self.read_until(who, lambda ln: ln.startswith(b"+ ") or ln.startswith(tag + b" "))
        else:
            self.read_until(who, lambda ln: ln.startswith(tag + b" "))

    def close(self):
        for c in self.conns.values():
            c.close()


@pytest.mark.parametrize("case", CASES, ids=[os.path.basename(c)[:-3] for c in CASES])
def test_golden_imap(fresh_server, case):
    p = Play(fresh_server)
    try:
        with open(case, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line and not line.startswith("#"):
                    p.step(line)
    finally:
        p.close()
    got = b"\n".join(p.out) + b"\n"
    helpers.check_golden(case, got, fresh_server)
